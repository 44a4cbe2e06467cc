/*
 * libsrtp 3.0 API on top of the distro's libsrtp 2.x (vcall stand-in).
 *
 * mediasoup's worker includes <srtp.h> and is written against libsrtp 3.0
 * (versatica's fork). Debian ships libsrtp 2.x as <srtp2/srtp.h>. This header
 * provides only the part of the 3.0 API that mediasoup uses:
 *   - srtp_policy_t is an opaque handle built with srtp_policy_create() and
 *     the srtp_policy_set_*() / srtp_policy_add_key() setters;
 *   - srtp_protect/unprotect(_rtcp) take separate input and output buffers
 *     and size_t lengths (in-place is allowed);
 *   - srtp_stream_remove() is libsrtp 2's srtp_remove_stream();
 *   - the error codes buffer_small and cryptex_err.
 * Everything else (srtp_init, srtp_dealloc, profiles, events, ...) is the
 * same in both and comes straight from libsrtp 2.
 */
#ifndef VCALL_SRTP3_COMPAT_H
#define VCALL_SRTP3_COMPAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* libsrtp 2 names its policy struct srtp_policy_t; 3.0 uses that name for
 * the opaque handle. Rename libsrtp 2's struct while its header is read. */
#define srtp_policy_t srtp2_policy_t
#include <srtp2/srtp.h>
#undef srtp_policy_t

/* Error codes that libsrtp 2 may lack. meson.build tells which exist
 * (VCALL_SRTP2_HAS_*). libsrtp 3 numbers them 28 and 29; libsrtp 2.8 already
 * uses 28 for cryptex_err, so buffer_small then takes the next free value. */
#ifndef VCALL_SRTP2_HAS_CRYPTEX_ERR
#define srtp_err_status_cryptex_err ((srtp_err_status_t)29)
#endif
#ifndef VCALL_SRTP2_HAS_BUFFER_SMALL
#ifdef VCALL_SRTP2_HAS_CRYPTEX_ERR
#define srtp_err_status_buffer_small ((srtp_err_status_t)(srtp_err_status_cryptex_err + 1))
#else
#define srtp_err_status_buffer_small ((srtp_err_status_t)28)
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vcall_srtp3_policy *srtp_policy_t;

srtp_err_status_t vcall_srtp3_policy_create(srtp_policy_t *policy);
void vcall_srtp3_policy_destroy(srtp_policy_t policy);
srtp_err_status_t vcall_srtp3_policy_set_ssrc(srtp_policy_t policy,
                                              srtp_ssrc_t ssrc);
srtp_err_status_t vcall_srtp3_policy_set_profile(srtp_policy_t policy,
                                                 srtp_profile_t profile);
srtp_err_status_t vcall_srtp3_policy_add_key(srtp_policy_t policy,
                                             const uint8_t *key,
                                             size_t key_len,
                                             const uint8_t *salt,
                                             size_t salt_len,
                                             const uint8_t *mki,
                                             size_t mki_len);
srtp_err_status_t vcall_srtp3_policy_set_allow_repeat_tx(srtp_policy_t policy,
                                                         bool allow);
srtp_err_status_t vcall_srtp3_policy_set_window_size(srtp_policy_t policy,
                                                     size_t window_size);

srtp_err_status_t vcall_srtp3_create(srtp_t *session, srtp_policy_t policy);
srtp_err_status_t vcall_srtp3_stream_remove(srtp_t session, uint32_t ssrc);

srtp_err_status_t vcall_srtp3_protect(srtp_t ctx,
                                      const uint8_t *rtp,
                                      size_t rtp_len,
                                      uint8_t *srtp,
                                      size_t *srtp_len,
                                      size_t mki_index);
srtp_err_status_t vcall_srtp3_unprotect(srtp_t ctx,
                                        const uint8_t *srtp,
                                        size_t srtp_len,
                                        uint8_t *rtp,
                                        size_t *rtp_len);
srtp_err_status_t vcall_srtp3_protect_rtcp(srtp_t ctx,
                                           const uint8_t *rtcp,
                                           size_t rtcp_len,
                                           uint8_t *srtcp,
                                           size_t *srtcp_len,
                                           size_t mki_index);
srtp_err_status_t vcall_srtp3_unprotect_rtcp(srtp_t ctx,
                                             const uint8_t *srtcp,
                                             size_t srtcp_len,
                                             uint8_t *rtcp,
                                             size_t *rtcp_len);

#ifdef __cplusplus
}
#endif

/* Map the 3.0 names onto the functions above. The implementation file sets
 * VCALL_SRTP3_COMPAT_IMPL so that it still sees libsrtp 2's own functions. */
#ifndef VCALL_SRTP3_COMPAT_IMPL
#define srtp_policy_create vcall_srtp3_policy_create
#define srtp_policy_destroy vcall_srtp3_policy_destroy
#define srtp_policy_set_ssrc vcall_srtp3_policy_set_ssrc
#define srtp_policy_set_profile vcall_srtp3_policy_set_profile
#define srtp_policy_add_key vcall_srtp3_policy_add_key
#define srtp_policy_set_allow_repeat_tx vcall_srtp3_policy_set_allow_repeat_tx
#define srtp_policy_set_window_size vcall_srtp3_policy_set_window_size
#define srtp_create vcall_srtp3_create
#define srtp_stream_remove vcall_srtp3_stream_remove
#define srtp_protect vcall_srtp3_protect
#define srtp_unprotect vcall_srtp3_unprotect
#define srtp_protect_rtcp vcall_srtp3_protect_rtcp
#define srtp_unprotect_rtcp vcall_srtp3_unprotect_rtcp
#endif

#endif /* VCALL_SRTP3_COMPAT_H */
