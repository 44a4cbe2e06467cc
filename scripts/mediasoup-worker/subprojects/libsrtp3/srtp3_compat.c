/*
 * libsrtp 3.0 API on top of libsrtp 2.x: implementation (see include/srtp.h).
 */
#define VCALL_SRTP3_COMPAT_IMPL
#include "srtp.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

struct vcall_srtp3_policy {
    srtp2_policy_t p;                  /* what libsrtp 2's srtp_create() takes */
    unsigned char key[SRTP_MAX_KEY_LEN]; /* master key followed by salt */
    size_t key_len;
    bool has_profile;
};

srtp_err_status_t vcall_srtp3_policy_create(srtp_policy_t *policy)
{
    if (policy == NULL)
        return srtp_err_status_bad_param;

    *policy = calloc(1, sizeof(**policy));
    if (*policy == NULL)
        return srtp_err_status_alloc_fail;

    return srtp_err_status_ok;
}

void vcall_srtp3_policy_destroy(srtp_policy_t policy)
{
    if (policy == NULL)
        return;

    /* Don't leave key material in freed memory. */
    volatile unsigned char *k = policy->key;
    for (size_t i = 0; i < sizeof(policy->key); i++)
        k[i] = 0;

    free(policy);
}

srtp_err_status_t vcall_srtp3_policy_set_ssrc(srtp_policy_t policy,
                                              srtp_ssrc_t ssrc)
{
    if (policy == NULL)
        return srtp_err_status_bad_param;

    policy->p.ssrc = ssrc;
    return srtp_err_status_ok;
}

srtp_err_status_t vcall_srtp3_policy_set_profile(srtp_policy_t policy,
                                                 srtp_profile_t profile)
{
    if (policy == NULL)
        return srtp_err_status_bad_param;

    /* libsrtp 2 picks the RTCP suite itself (e.g. SHA1_80 for a SHA1_32
     * profile, as RFC 3711 requires), like libsrtp 3 does. */
    srtp_err_status_t err =
        srtp_crypto_policy_set_from_profile_for_rtp(&policy->p.rtp, profile);
    if (err != srtp_err_status_ok)
        return err;

    err = srtp_crypto_policy_set_from_profile_for_rtcp(&policy->p.rtcp,
                                                       profile);
    if (err != srtp_err_status_ok)
        return err;

    policy->has_profile = true;
    return srtp_err_status_ok;
}

srtp_err_status_t vcall_srtp3_policy_add_key(srtp_policy_t policy,
                                             const uint8_t *key,
                                             size_t key_len,
                                             const uint8_t *salt,
                                             size_t salt_len,
                                             const uint8_t *mki,
                                             size_t mki_len)
{
    /* One key without MKI is all mediasoup uses. */
    if (policy == NULL || key == NULL || (salt == NULL && salt_len > 0))
        return srtp_err_status_bad_param;
    if (mki != NULL || mki_len != 0 || policy->key_len != 0)
        return srtp_err_status_bad_param;
    if (key_len == 0 || salt_len > sizeof(policy->key) ||
        key_len > sizeof(policy->key) - salt_len)
        return srtp_err_status_bad_param;

    /* libsrtp 2 wants key and salt as one buffer. */
    memcpy(policy->key, key, key_len);
    if (salt_len > 0)
        memcpy(policy->key + key_len, salt, salt_len);
    policy->key_len = key_len + salt_len;
    policy->p.key = policy->key;

    return srtp_err_status_ok;
}

srtp_err_status_t vcall_srtp3_policy_set_allow_repeat_tx(srtp_policy_t policy,
                                                         bool allow)
{
    if (policy == NULL)
        return srtp_err_status_bad_param;

    policy->p.allow_repeat_tx = allow ? 1 : 0;
    return srtp_err_status_ok;
}

srtp_err_status_t vcall_srtp3_policy_set_window_size(srtp_policy_t policy,
                                                     size_t window_size)
{
    /* libsrtp 2 checks the range (64 .. 2^15) in srtp_create(). */
    if (policy == NULL || window_size > ULONG_MAX)
        return srtp_err_status_bad_param;

    policy->p.window_size = (unsigned long)window_size;
    return srtp_err_status_ok;
}

srtp_err_status_t vcall_srtp3_create(srtp_t *session, srtp_policy_t policy)
{
    if (session == NULL || policy == NULL || !policy->has_profile ||
        policy->key_len == 0)
        return srtp_err_status_bad_param;

    /* libsrtp 2 reads exactly cipher_key_len bytes of key + salt: make sure
     * they are all there. */
    if (policy->key_len != (size_t)policy->p.rtp.cipher_key_len ||
        policy->key_len != (size_t)policy->p.rtcp.cipher_key_len)
        return srtp_err_status_bad_param;

    /* The session derives its own keys: the policy may be freed after this. */
    policy->p.next = NULL;
    return srtp_create(session, &policy->p);
}

srtp_err_status_t vcall_srtp3_stream_remove(srtp_t session, uint32_t ssrc)
{
    return srtp_remove_stream(session, ssrc);
}

/* libsrtp 2 works in place on one buffer with an int length. Copy the input
 * into the output buffer (if it is another one) and run it there. */
typedef srtp_err_status_t (*srtp2_in_place_fn)(srtp_t, void *, int *);

static srtp_err_status_t run_in_place(srtp2_in_place_fn fn,
                                      srtp_t ctx,
                                      const uint8_t *in,
                                      size_t in_len,
                                      uint8_t *out,
                                      size_t *out_len,
                                      size_t growth)
{
    if (in == NULL || out == NULL || out_len == NULL)
        return srtp_err_status_bad_param;
    if (in_len > (size_t)INT_MAX - growth)
        return srtp_err_status_bad_param;
    if (*out_len < in_len + growth)
        return srtp_err_status_buffer_small;

    if (out != in)
        memmove(out, in, in_len);

    int len = (int)in_len;
    srtp_err_status_t err = fn(ctx, out, &len);
    if (err != srtp_err_status_ok)
        return err;

    *out_len = (size_t)len;
    return srtp_err_status_ok;
}

srtp_err_status_t vcall_srtp3_protect(srtp_t ctx,
                                      const uint8_t *rtp,
                                      size_t rtp_len,
                                      uint8_t *srtp,
                                      size_t *srtp_len,
                                      size_t mki_index)
{
    if (mki_index != 0)
        return srtp_err_status_bad_mki;

    /* libsrtp 2 may append up to SRTP_MAX_TRAILER_LEN bytes. */
    return run_in_place(srtp_protect, ctx, rtp, rtp_len, srtp, srtp_len,
                        SRTP_MAX_TRAILER_LEN);
}

srtp_err_status_t vcall_srtp3_unprotect(srtp_t ctx,
                                        const uint8_t *srtp,
                                        size_t srtp_len,
                                        uint8_t *rtp,
                                        size_t *rtp_len)
{
    return run_in_place(srtp_unprotect, ctx, srtp, srtp_len, rtp, rtp_len, 0);
}

srtp_err_status_t vcall_srtp3_protect_rtcp(srtp_t ctx,
                                           const uint8_t *rtcp,
                                           size_t rtcp_len,
                                           uint8_t *srtcp,
                                           size_t *srtcp_len,
                                           size_t mki_index)
{
    if (mki_index != 0)
        return srtp_err_status_bad_mki;

    /* SRTCP also appends the 4-byte E flag + index. */
    return run_in_place(srtp_protect_rtcp, ctx, rtcp, rtcp_len, srtcp,
                        srtcp_len, SRTP_MAX_TRAILER_LEN + 4);
}

srtp_err_status_t vcall_srtp3_unprotect_rtcp(srtp_t ctx,
                                             const uint8_t *srtcp,
                                             size_t srtcp_len,
                                             uint8_t *rtcp,
                                             size_t *rtcp_len)
{
    return run_in_place(srtp_unprotect_rtcp, ctx, srtcp, srtcp_len, rtcp,
                        rtcp_len, 0);
}
