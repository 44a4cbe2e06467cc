// Debian's libssl is built with kTLS. OpenSSL asks the DTLS memory BIO whether
// kTLS is sending (BIO_get_ktls_send, a BIO_ctrl) and, through mediasoup's BIO
// callback, gets 1: that callback returns 1 for every call but the
// BIO_CB_RETURN one exactly, including the return of a BIO_ctrl. OpenSSL then
// allocates no write buffer and the worker crashes on the first DTLS record.
// This wraps BIO_set_callback_ex (linked with --wrap) so the result of a
// BIO_ctrl is the BIO's own; every other call goes to mediasoup's callback
// unchanged. mediasoup's bundled OpenSSL is built without kTLS, so upstream
// never sees it.

#include <openssl/bio.h>

void __real_BIO_set_callback_ex(BIO *bio, BIO_callback_fn_ex callback);

// mediasoup installs one callback function for every DTLS BIO.
static BIO_callback_fn_ex mediasoup_callback;

static long ctrl_result_preserving_callback(
  BIO *bio, int oper, const char *argp, size_t len, int argi, long argl, int ret, size_t *processed)
{
	long result = mediasoup_callback(bio, oper, argp, len, argi, argl, ret, processed);

	return oper == (BIO_CB_CTRL | BIO_CB_RETURN) ? ret : result;
}

void __wrap_BIO_set_callback_ex(BIO *bio, BIO_callback_fn_ex callback)
{
	if (callback == NULL)
	{
		__real_BIO_set_callback_ex(bio, NULL);
		return;
	}
	mediasoup_callback = callback;
	__real_BIO_set_callback_ex(bio, ctrl_result_preserving_callback);
}
