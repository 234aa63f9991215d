/* Webhook URL checks, parsed by libcurl's own URL parser: what it accepts
 * here is exactly what the delivery worker will be able to request. */
#include <string.h>

#include <curl/curl.h>

#include "webhook_url.h"
#include "cm/banned.h"

static int invalid(struct cm_err *err)
{
    return cm_err_set(err, 400, CM_ERR_INVALID_REQUEST, "url_invalid", "url",
                      "Invalid URL: must be an absolute https:// URL (test mode also accepts "
                      "http://), at most %d characters.",
                      INST_WEBHOOK_URL_MAX);
}

int inst_webhook_url_check(const char *url, int livemode, struct cm_err *err)
{
    CURLU *u = NULL;
    char *scheme = NULL, *host = NULL;
    const char *sep;
    size_t n = strlen(url);
    int https, ret = -1;

    if (n == 0 || n > INST_WEBHOOK_URL_MAX)
        return invalid(err);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] == 0x7f)
            return invalid(err);
    /* curl reads "https:///x" as host x; an authority must follow "//". */
    sep = strstr(url, "://");
    if (sep == NULL || sep[3] == '/' || sep[3] == '\\')
        return invalid(err);
    u = curl_url();
    if (u == NULL)
        return cm_err_internal(err, "out of memory parsing a URL");
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0') {
        invalid(err);
        goto out;
    }
    /* curl lowercases the scheme. */
    https = strcmp(scheme, "https") == 0;
    if (!https && strcmp(scheme, "http") != 0) {
        invalid(err);
        goto out;
    }
    if (!https && livemode) {
        cm_err_set(err, 400, CM_ERR_INVALID_REQUEST, "url_invalid", "url",
                   "Invalid URL: live mode webhook endpoints must use https://; plain "
                   "http:// is accepted in test mode only.");
        goto out;
    }
    ret = 0;
out:
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return ret;
}
