/* SPDX-License-Identifier: BSD-3-Clause */
/* srvd-test-session: runs the relay engine for one session without an atServer, for
 * tests/integration/srvd-relay.sh and benchmarks.
 *   srvd-test-session [--key-a FILE] [--key-b FILE] [--grace SECONDS] [--bind ADDR]
 *                     [--port-range LOW-HIGH] SESSION_ID CLIENT_NONCE
 * A side authenticates iff its public key file (base64 SPKI) is given. Prints
 * "<portA> <portB> <rvdNonce>" on stdout when the ports are open, and exits 0 when the session
 * has ended. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <systemd/sd-event.h>

#include "log.h"
#include "relay.h"
#include "secure.h"

static int read_key(const char *path, AtRsaPublic **ret) {
        char buf[4096];
        FILE *f = fopen(path, "re");
        size_t n;

        if (!f)
                return -errno;
        n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
                n--;
        buf[n] = '\0';
        return at_rsa_public_from_base64(buf, ret);
}

static void on_changed(SrvdRelay *relay, void *userdata) {
        if (srvd_relay_n_sessions(relay) == 0)
                sd_event_exit(userdata, 0);
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "key-a", required_argument, NULL, 'A' },
                { "key-b", required_argument, NULL, 'B' },
                { "grace", required_argument, NULL, 'g' },
                { "bind", required_argument, NULL, 'b' },
                { "port-range", required_argument, NULL, 'r' },
                {}
        };
        _cleanup_(at_rsa_public_freep) AtRsaPublic *key_a = NULL, *key_b = NULL;
        _cleanup_(srvd_relay_freep) SrvdRelay *relay = NULL;
        SrvdRelayConfig config = {};
        sd_event *event = NULL;
        SrvdSession *session;
        unsigned lo, hi;
        int c, r;

        log_setup("srvd-test-session");
        at_secure_init();
        signal(SIGPIPE, SIG_IGN);
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'A':
                case 'B':
                        r = read_key(optarg, c == 'A' ? &key_a : &key_b);
                        if (r < 0)
                                return log_error_errno(r, "Failed to read key %s: %m", optarg), 1;
                        break;
                case 'g':
                        config.grace_usec = strtoull(optarg, NULL, 10) * 1000000ULL;
                        break;
                case 'b':
                        config.bind_address = optarg;
                        break;
                case 'r':
                        if (sscanf(optarg, "%u-%u", &lo, &hi) != 2 || lo < 1 || hi > 65535 || lo > hi)
                                return log_error("Bad --port-range %s", optarg), 1;
                        config.port_min = (uint16_t) lo;
                        config.port_max = (uint16_t) hi;
                        break;
                default:
                        return 1;
                }
        if (argc - optind != 2)
                return log_error("Usage: srvd-test-session [options] SESSION_ID CLIENT_NONCE"), 1;

        r = sd_event_default(&event);
        if (r < 0)
                return 1;
        r = srvd_relay_new(event, &config, &relay);
        if (r < 0)
                return log_error_errno(r, "Failed to create relay: %m"), 1;
        srvd_relay_set_changed_callback(relay, on_changed, event);
        r = srvd_session_new(relay, &(SrvdSessionParams) {
                                     .session_id = argv[optind], .atsign_a = "@client", .atsign_b = "@device",
                                     .client_nonce = argv[optind + 1], .key_a = key_a, .key_b = key_b },
                             &session);
        if (r < 0)
                return log_error_errno(r, "Failed to create session: %m"), 1;
        printf("%u %u %s\n", srvd_session_port_a(session), srvd_session_port_b(session), srvd_session_rvd_nonce(session));
        fflush(stdout);
        r = sd_event_loop(event);
        relay = srvd_relay_free(relay);
        sd_event_unref(event);
        return r < 0 ? 1 : 0;
}
