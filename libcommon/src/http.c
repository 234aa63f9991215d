/* Response building and the rendering of cm_err into Stripe's error object.
 * This is the only place a cm_err becomes JSON (STYLE.md). */
#include <stdlib.h>
#include <string.h>

#include "cm/audit.h"
#include "cm/http.h"
#include "cm/json.h"
#include "cm/banned.h"

int cm_resp_json(struct cm_resp *resp, int status, json_t *body, struct cm_err *err)
{
    size_t len = 0;
    char *s = body ? cm_json_dump(body, &len) : NULL;

    json_decref(body);
    if (s == NULL)
        return cm_err_internal(err, "out of memory rendering a response");
    cm_resp_raw(resp, status, "application/json", s, len);
    return 0;
}

void cm_resp_raw(struct cm_resp *resp, int status, const char *content_type, char *body, size_t len)
{
    free(resp->body);
    resp->status = status;
    resp->content_type = content_type;
    resp->body = body;
    resp->len = len;
}

static int header_safe(const char *s)
{
    return s != NULL && strpbrk(s, "\r\n") == NULL;
}

int cm_resp_header(struct cm_resp *resp, const char *name, const char *value)
{
    size_t nl, vl;
    char *p;

    if (!header_safe(name) || !header_safe(value) || *name == '\0' || strchr(name, ':'))
        return -1;
    nl = strlen(name);
    vl = strlen(value);
    p = realloc(resp->headers, resp->headers_len + nl + vl + 5);
    if (p == NULL)
        return -1;
    resp->headers = p;
    p += resp->headers_len;
    memcpy(p, name, nl);
    memcpy(p + nl, ": ", 2);
    memcpy(p + nl + 2, value, vl);
    memcpy(p + nl + 2 + vl, "\r\n", 3); /* keeps the buffer NUL-terminated */
    resp->headers_len += nl + vl + 4;
    return 0;
}

static void copy_trunc(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;

    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
}

void cm_req_audit(struct cm_req *req, const char *action, const char *object_id, const char *target)
{
    if (action != NULL)
        copy_trunc(req->audit_action, sizeof(req->audit_action), action);
    if (object_id != NULL)
        copy_trunc(req->audit_object, sizeof(req->audit_object), object_id);
    if (target != NULL)
        copy_trunc(req->audit_target, sizeof(req->audit_target), target);
}

json_t *cm_err_json(const struct cm_err *err)
{
    json_t *e = json_object();
    json_t *o = json_object();
    char doc[160];

    if (e == NULL || o == NULL)
        goto fail;
    if (json_object_set_new(e, "type", json_string(cm_err_type_name(err->type))) < 0 ||
        json_object_set_new(e, "message", json_string(err->message)) < 0)
        goto fail;
    if (err->code[0] != '\0') {
        /* Stripe links each code to its page: resource_missing -> resource-missing. */
        int n = snprintf(doc, sizeof(doc), "https://stripe.com/docs/error-codes/%s", err->code);
        for (char *p = doc + n - (int)strlen(err->code); *p; p++)
            if (*p == '_')
                *p = '-';
        if (json_object_set_new(e, "code", json_string(err->code)) < 0 ||
            json_object_set_new(e, "doc_url", json_string(doc)) < 0)
            goto fail;
    }
    if (err->param[0] != '\0' && json_object_set_new(e, "param", json_string(err->param)) < 0)
        goto fail;
    if (json_object_set_new(o, "error", e) < 0) {
        e = NULL;
        goto fail;
    }
    return o;
fail:
    json_decref(e);
    json_decref(o);
    return NULL;
}

void cm_req_audit_fill(const struct cm_req *req, struct cm_audit_rec *a, const char *action,
                       int status, const char *code)
{
    memset(a, 0, sizeof(*a));
    a->request_id = req->request_id;
    a->service = req->svc->name;
    a->action = action;
    /* The actor is who acted: a signed-in user, else the key's id; for a key
     * that failed, only its public prefix. Never the key. */
    a->actor = req->audit_actor[0]                          ? req->audit_actor
               : req->authenticated && req->auth.user_id[0] ? req->auth.user_id
               : req->authenticated                         ? req->auth.key_id
               : req->auth.key_prefix[0]                    ? req->auth.key_prefix
                                                            : NULL;
    a->account_id = req->authenticated ? req->auth.account : NULL;
    a->app_id = req->authenticated && req->auth.app_id[0] ? req->auth.app_id : NULL;
    a->livemode = req->authenticated ? req->auth.livemode : -1;
    a->object_id = req->audit_object[0] ? req->audit_object : NULL;
    a->target = req->audit_target[0] ? req->audit_target : NULL;
    a->route = req->route ? req->route_name : NULL;
    a->status = status;
    a->error_code = code && *code ? code : NULL;
    a->client_addr = req->remote_addr;
    a->user_agent = req->user_agent;
}

int cm_req_audit_now(struct cm_req *req, const char *action, const char *object_id,
                     const char *target, struct cm_err *err)
{
    struct cm_audit_rec a;

    cm_req_audit_fill(req, &a, action, 200, NULL);
    a.object_id = object_id;
    a.target = target;
    return cm_audit_write(req->db, &a, err);
}
