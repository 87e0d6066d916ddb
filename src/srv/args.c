/* SPDX-License-Identifier: BSD-3-Clause */
#include <getopt.h>
#include <stdio.h>

#include "args.h"
#include "log.h"
#include "secure.h"

enum {
        ARG_LOCAL_PORT = 0x100,
        ARG_LOCAL_HOST,
        ARG_BIND_LOCAL_PORT,
        ARG_TIMEOUT,
        ARG_MULTI,
        ARG_RV_AUTH,
        ARG_NO_RV_AUTH,
        ARG_RV_E2EE,
        ARG_NO_RV_E2EE,
        ARG_HEARTBEAT,
        ARG_HELP,
};

void srv_args_usage(FILE *f) {
        fputs("Usage: srv -h HOST -p PORT [--local-port PORT] [--local-host HOST] [--bind-local-port]\n"
              "           [--timeout SECONDS] [--multi] [--rv-auth] [--rv-e2ee] [-a payload] [--heartbeat SECONDS]\n"
              "Environment: RV_AUTH (with --rv-auth), RV_AES_C2D/RV_IV_C2D or RV_AES/RV_IV (with --rv-e2ee),\n"
              "             RV_AES_D2C/RV_IV_D2C (twin keys)\n", f);
}

static int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *ret) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

static const char *env_first(const char *a, const char *b) {
        const char *v = getenv(a);
        if ((!v || !*v) && b)
                v = getenv(b);
        return v && *v ? v : NULL;
}

int srv_args_parse(SrvArgs *args, int argc, char **argv) {
        static const struct option options[] = {
                { "host", required_argument, NULL, 'h' },
                { "port", required_argument, NULL, 'p' },
                { "local-port", required_argument, NULL, ARG_LOCAL_PORT },
                { "local-host", required_argument, NULL, ARG_LOCAL_HOST },
                { "bind-local-port", no_argument, NULL, ARG_BIND_LOCAL_PORT },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                { "multi", no_argument, NULL, ARG_MULTI },
                { "rv-auth", no_argument, NULL, ARG_RV_AUTH },
                { "no-rv-auth", no_argument, NULL, ARG_NO_RV_AUTH },
                { "rv-e2ee", no_argument, NULL, ARG_RV_E2EE },
                { "no-rv-e2ee", no_argument, NULL, ARG_NO_RV_E2EE },
                { "relay-auth-mode", required_argument, NULL, 'a' },
                { "heartbeat", required_argument, NULL, ARG_HEARTBEAT },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, ARG_HELP },
                {}
        };
        SrvConfig *c = &args->config;
        bool rv_auth = false, rv_e2ee = false, mode_payload = false;
        unsigned long v;
        int opt;

        *c = (SrvConfig) { .local_host = "localhost", .local_port = 22, .timeout_usec = 60 * 1000000ULL,
                           .heartbeat_usec = 1800 * 1000000ULL };
        optind = 0;
        while ((opt = getopt_long(argc, argv, "h:p:a:v", options, NULL)) >= 0)
                switch (opt) {
                case 'h':
                        c->host = optarg;
                        break;
                case 'p':
                        if (parse_uint(optarg, 1, 65535, &v) < 0)
                                return log_error_errno(EINVAL, "Invalid --port %s", optarg);
                        c->port = (uint16_t) v;
                        break;
                case ARG_LOCAL_PORT:
                        if (parse_uint(optarg, 0, 65535, &v) < 0)
                                return log_error_errno(EINVAL, "Invalid --local-port %s", optarg);
                        c->local_port = (uint16_t) v;
                        break;
                case ARG_LOCAL_HOST:
                        c->local_host = optarg;
                        break;
                case ARG_BIND_LOCAL_PORT:
                        c->bind_local_port = true;
                        break;
                case ARG_TIMEOUT:
                        if (parse_uint(optarg, 0, 366UL * 24 * 3600, &v) < 0)
                                return log_error_errno(EINVAL, "Invalid --timeout %s", optarg);
                        /* npt -T 0 means 365 days */
                        c->timeout_usec = (v ? v : 365UL * 24 * 3600) * 1000000ULL;
                        break;
                case ARG_MULTI:
                        c->multi = true;
                        break;
                case ARG_RV_AUTH:
                case ARG_NO_RV_AUTH:
                        rv_auth = opt == ARG_RV_AUTH;
                        break;
                case ARG_RV_E2EE:
                case ARG_NO_RV_E2EE:
                        rv_e2ee = opt == ARG_RV_E2EE;
                        break;
                case 'a':
                        if (!streq(optarg, "payload"))
                                return log_error_errno(EINVAL, "Relay auth mode '%s' is not supported (only payload)", optarg);
                        mode_payload = true;
                        break;
                case ARG_HEARTBEAT:
                        if (parse_uint(optarg, 0, 366UL * 24 * 3600, &v) < 0)
                                return log_error_errno(EINVAL, "Invalid --heartbeat %s", optarg);
                        c->heartbeat_usec = v * 1000000ULL;
                        break;
                case 'v':
                        args->verbose = true;
                        break;
                case ARG_HELP:
                        args->help = true;
                        return 0;
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return log_error_errno(EINVAL, "Unexpected argument %s", argv[optind]);
        if (!c->host || c->port == 0)
                return log_error_errno(EINVAL, "-h/--host and -p/--port are mandatory");
        if (!c->bind_local_port && c->local_port == 0)
                return log_error_errno(EINVAL, "--local-port is required on the daemon side");

        if (rv_auth || mode_payload) {
                const char *auth = env_first("RV_AUTH", NULL);
                if (!auth)
                        return log_error_errno(EINVAL, "--rv-auth required, but RV_AUTH is not in environment");
                if (strlen(auth) > 4095 || strchr(auth, '\n'))
                        return log_error_errno(EINVAL, "RV_AUTH is not a single line of at most 4095 bytes");
                args->rv_auth = strdup(auth);
                if (!args->rv_auth)
                        return log_oom();
                c->rv_auth = args->rv_auth;
        }
        if (rv_e2ee) {
                const char *k = env_first("RV_AES_C2D", "RV_AES"), *iv = env_first("RV_IV_C2D", "RV_IV");
                const char *k2 = env_first("RV_AES_D2C", NULL), *iv2 = env_first("RV_IV_D2C", NULL);

                if (!k || !iv)
                        return log_error_errno(EINVAL, "--rv-e2ee required, but RV_AES/RV_IV are not in environment");
                if (session_key_from_base64(k, iv, &c->c2d) < 0)
                        return log_error_errno(EINVAL, "RV_AES/RV_IV are not a base64 AES-256 key and 16-byte IV");
                if (!k2 != !iv2)
                        return log_error_errno(EINVAL, "Both RV_AES_D2C and RV_IV_D2C are required, or neither");
                if (k2 && session_key_from_base64(k2, iv2, &c->d2c) < 0)
                        return log_error_errno(EINVAL, "RV_AES_D2C/RV_IV_D2C are not a base64 AES-256 key and 16-byte IV");
        }
        return 0;
}

void srv_args_done(SrvArgs *args) {
        free(args->rv_auth);
        args->rv_auth = NULL;
        session_key_free(args->config.c2d);
        session_key_free(args->config.d2c);
        args->config.c2d = args->config.d2c = NULL;
}
