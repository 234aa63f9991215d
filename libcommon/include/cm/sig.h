/* SHA-256, HMAC-SHA256, hex, and the Stripe-Signature header
 * ("t=<unix seconds>,v1=<64 lowercase hex>") used to sign webhook deliveries
 * and install links (spec/API.md sections 13 and 14). The verifier mirrors
 * stripe-node's webhooks.signature.verifyHeader, so that anything we accept
 * an SDK accepts too, and the other way round. */
#ifndef CM_SIG_H
#define CM_SIG_H

#include <stddef.h>

#include <openssl/types.h>

#include "cm/err.h"

#define CM_SHA256_LEN 32

/* "t=" + at most 19 digits + ",v1=" + 64 hex + NUL fits. */
#define CM_SIG_HEADER_MAX 96

/* SHA-256 as OpenSSL 3 fetches it, once per process, for EVP_Digest*: the
 * EVP_sha256() handle makes every EVP_DigestInit_ex look the algorithm up
 * again in the provider's store, under a lock. Never freed; NULL only if
 * the default provider has no SHA-256. */
const EVP_MD *cm_sha256_md(void);

/* Writes SHA-256(data) into out. Aborts if OpenSSL cannot hash (it has no
 * SHA-256, or no memory for a context): there is no way to go on. */
void cm_sha256(const void *data, size_t len, unsigned char out[32]);

/* Writes HMAC-SHA256(key, msg) into out. key may be NULL when keylen is 0,
 * msg when msglen is 0. Returns 0, or -1 if OpenSSL fails. */
int cm_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
                   unsigned char out[32]);

/* Writes the lowercase hex of in[0..len) and a NUL into out (2 * len + 1
 * bytes). */
void cm_hex_encode(const unsigned char *in, size_t len, char *out);

/* The value of one hex digit (either case), or -1 for anything else. */
int cm_hex_digit(int c);

/* Decodes hex (either case) of exactly 2 * outlen characters, then the NUL,
 * into out. Returns 0, or -1 on a wrong length or a non-hex character (out
 * may then be partly written). */
int cm_hex_decode(const char *hex, unsigned char *out, size_t outlen);

/* Writes "t=<t>,v1=<sig>" and a NUL into out, where sig is the lowercase hex
 * of HMAC-SHA256(key = the bytes of secret, whole, including its "whsec_" or
 * "absec_" prefix; message = "<t>." followed by payload[0..len)). Returns 0,
 * or -1 when t is negative, secret is NULL or empty, cap is below the length needed
 * (CM_SIG_HEADER_MAX always suffices) or OpenSSL fails. */
int cm_sig_header_build(const char *secret, long long t, const void *payload, size_t len, char *out,
                        size_t cap);

/* Checks a Stripe-Signature header value against payload[0..len) and secret
 * as stripe-node does: the header is split on ',' and each item on '='
 * without trimming; the last "t" item gives the timestamp, which must be a
 * decimal integer; every "v1" item is a candidate signature and other schemes
 * ("v0") are ignored. The expected signature is computed over the timestamp
 * as parsed (so "t=017" signs "17."). Passes when any candidate equals it
 * (constant-time). With tolerance > 0 it then also fails when
 * now - t > tolerance; a timestamp in the future passes. tolerance <= 0 skips
 * the time check (stripe-node's verifyHeader default; its constructEvent uses
 * 300). header and secret may be NULL. One deliberate difference: node
 * takes the timestamp with parseInt() and so reads "t=12abc" as 12 and signs
 * "NaN." for "t=abc"; here anything but digits fails to extract. The payload
 * is bytes, so an empty one is checked like any other (as node does with an
 * empty Buffer; only an empty string is refused there).
 * Returns 0, or -1 with a 400 invalid_request_error (no code, no param) in
 * *err whose message is exactly stripe-node 22's, checked in this order:
 *   "No stripe-signature header value was provided."   (NULL or "")
 *   "Unable to extract timestamp and signatures from header"
 *   "No signatures found with expected scheme"
 *   "No webhook secret value was provided. It should start with `whsec_`"
 *   "No signatures found matching the expected signature for payload"
 *   "Timestamp outside the tolerance zone"
 * (node appends a hint to the mismatch message; it is left out here), or a
 * 500 if OpenSSL fails. */
int cm_sig_header_verify(const char *header, const char *secret, const void *payload, size_t len,
                         long long tolerance, long long now, struct cm_err *err);

/* Returns 1 when a[0..len) equals b[0..len), else 0, in time that depends
 * only on len. */
int cm_const_eq(const void *a, const void *b, size_t len);

#endif
