/* SPDX-License-Identifier: BSD-3-Clause */
/* Framing facts: at_server packages/at_secondary_server/lib/src/verb/handler/response/
 * base_response_handler.dart (prompt "@" or "@alice@", "data:<x>\n<prompt>") and
 * lib/src/exception/global_exception_handler.dart ("error:<code>-<description>\n<prompt>",
 * JSON {"errorCode","errorDescription"} for clients above version 3.0.37). Codes and texts:
 * at_libraries packages/at_commons/lib/src/exception/error_message.dart. */
#include <stdarg.h>
#include <stdio.h>

#include <jansson.h>

#include "server.h"

static const struct {
        const char *code, *text;
} descriptions[] = {
        { "AT0001", "Server exception" },
        { "AT0002", "DataStore exception" },
        { "AT0003", "Invalid syntax" },
        { "AT0004", "Socket error" },
        { "AT0005", "Buffer limit exceeded" },
        { "AT0006", "Outbound connection limit exceeded" },
        { "AT0007", "Secondary server not found" },
        { "AT0008", "Handshake failure" },
        { "AT0009", "UnAuthorized client in request" },
        { "AT0010", "Internal server error" },
        { "AT0011", "Internal server exception" },
        { "AT0012", "Inbound connection limit exceeded" },
        { "AT0401", "Client authentication failed" },
        { "AT0013", "Connection Exception" },
        { "AT0015", "key not found" },
        { "AT0016", "Invalid key" },
        { "AT0021", "Unable to connect to secondary" },
        { "AT0022", "Illegal arguments" },
        { "AT0023", "Timeout waiting for response" },
        { "AT0025", "Apkam Auth Denied" },
        { "AT0026", "Apkam Auth Failed" },
        { "AT0027", "Apkam Access Revoked" },
        { "AT0028", "Too Many Requests" },
        { "AT0029", "Apkam Enrollment Expired" },
        { "AT0030", "Invalid Enrollment Status" },
        { "AT0031", "Cannot revoke self enrollment" },
};

const char *ats_error_description(const char *code) {
        for (size_t i = 0; i < ELEMENTSOF(descriptions); i++)
                if (streq(descriptions[i].code, code))
                        return descriptions[i].text;
        return "Server exception";
}

const char *ats_prompt(AtsSession *ss, char buf[], size_t size) {
        if (!ss->hosted)
                return "";
        if (ss->authenticated)
                snprintf(buf, size, "%s@", ss->hosted->atsign);
        else if (ss->pol_authenticated && ss->from_atsign)
                snprintf(buf, size, "%s@", ss->from_atsign);
        else
                snprintf(buf, size, "@");
        return buf;
}

int ats_reply_raw(AtsSession *ss, const char *text) {
        char prompt[300];
        if (ats_conn_is_closing(ss->conn))
                return 0;
        return ats_conn_printf(ss->conn, "%s\n%s", text, ats_prompt(ss, prompt, sizeof prompt));
}

int ats_reply_data(AtsSession *ss, const char *data) {
        char prompt[300];
        if (ats_conn_is_closing(ss->conn))
                return 0;
        return ats_conn_printf(ss->conn, "data:%s\n%s", data ? data : "null", ats_prompt(ss, prompt, sizeof prompt));
}

int ats_reply_dataf(AtsSession *ss, const char *fmt, ...) {
        va_list ap;
        char *s = NULL;
        va_start(ap, fmt);
        int n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        int r = ats_reply_data(ss, s);
        free(s);
        return r;
}

/* Is version a.b.c greater than 3.0.37? */
static bool version_wants_json(const char *v) {
        unsigned a = 0, b = 0, c = 0;
        if (!v || sscanf(v, "%u.%u.%u", &a, &b, &c) < 1)
                return false;
        if (a != 3)
                return a > 3;
        if (b != 0)
                return b > 0;
        return c > 37;
}

int ats_reply_error(AtsSession *ss, const char *code, const char *fmt, ...) {
        _cleanup_free_ char *message = NULL, *description = NULL;
        char prompt[300];
        va_list ap;
        int r;

        if (ats_conn_is_closing(ss->conn))
                return 0;
        va_start(ap, fmt);
        r = vasprintf(&message, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        /* the error prompt only distinguishes authenticated connections */
        if (ss->authenticated)
                snprintf(prompt, sizeof prompt, "%s@", ss->hosted ? ss->hosted->atsign : "");
        else
                snprintf(prompt, sizeof prompt, "@");
        if (ss->authenticated)
                r = asprintf(&description, "%s : %s", ats_error_description(code), message);
        else
                r = asprintf(&description, "Exception: %s", message);
        if (r < 0)
                return -ENOMEM;
        if (version_wants_json(ss->client_version)) {
                json_t *o = json_pack("{s:s, s:s}", "errorCode", code, "errorDescription", description);
                char *j = o ? json_dumps(o, JSON_COMPACT) : NULL;
                json_decref(o);
                if (!j)
                        return -ENOMEM;
                r = ats_conn_printf(ss->conn, "error:%s\n%s", j, prompt);
                free(j);
                return r;
        }
        return ats_conn_printf(ss->conn, "error:%s-%s\n%s", code, description, prompt);
}
