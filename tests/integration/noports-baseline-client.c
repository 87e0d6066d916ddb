/* SPDX-License-Identifier: BSD-3-Clause */
/* noports-baseline-client: test helper (not installed) that plays a NoPorts 5.x client at the
 * message level, to show that sshnpd still speaks the baseline to it (tests/integration/
 * noports-interop.sh). It asks the relay for ports, sends an ssh_request exactly as sshnp 5.x
 * writes it (SshnpSessionRequest.toJson: no relayAuthMode, no twinKeys, no relayAtsign), signed
 * with the client's keys file, checks the daemon's signed answer and prints what a 5.x client then
 * gives srv, as NAME=value lines:
 *   RELAY_HOST, RELAY_PORT (portA), RELAY_PORT_B (the daemon's), SESSION_ID, FIELDS (the answer's field names in order),
 *   RV_AUTH, RV_AES, RV_IV (and, with --twin, RV_AES_D2C and RV_IV_D2C).
 * --twin sends the request as newer clients do (the newer fields, twinKeys:true) instead.
 * Usage: noports-baseline-client --root-domain H:P --ca-file F -k KEYS -f @c -t @d -d DEV -r @r [--twin] */
#include <getopt.h>
#include <stdio.h>

#include "dart_json.h"
#include "envelope.h"
#include "json_field.h"
#include "log.h"
#include "messages.h"
#include "np_client.h"
#include "np_session.h"
#include "relay_auth.h"
#include "session_crypto.h"

#define WAIT_USEC (20ULL * 1000000ULL)

typedef struct State {
        const char *me, *to, *relay, *device;
        char sid[37];
        char *key_relay, *key_response;
        char *relay_reply, *response;
} State;

static void on_notification(NpClient *c, const char *from, const char *key, const char *value, void *userdata) {
        State *st = userdata;

        if (!value)
                return;
        if (streq(from, st->relay) && streq(key, st->key_relay) && !st->relay_reply)
                st->relay_reply = strdup(value);
        else if (streq(from, st->to) && streq(key, st->key_response) && !st->response)
                st->response = strdup(value);
}

static bool have_relay(void *userdata) {
        return ((State *) userdata)->relay_reply != NULL;
}

static bool have_response(void *userdata) {
        return ((State *) userdata)->response != NULL;
}

static int die(const char *what, int r) {
        fprintf(stderr, "noports-baseline-client: %s: %s\n", what, strerror(r < 0 ? -r : r));
        return 1;
}

/* the payload in 5.x order; with twin, the newer fields where newer clients put them */
static int build_request(const State *st, const NpRelayReply *relay, const char *nonce, const char *pk, bool twin,
                         char **ret) {
        _cleanup_json_ json_t *o = json_object();

        if (!o)
                return -ENOMEM;
        if (json_add_bool(o, "direct", true) < 0 || json_add_string(o, "sessionId", st->sid) < 0 ||
            json_add_string(o, "host", relay->host) < 0 || json_add_int(o, "port", relay->port_b) < 0 ||
            json_add_bool(o, "authenticateToRvd", true) < 0)
                return -ENOMEM;
        if (twin && (json_add_string(o, "relayAuthMode", "payload") < 0 || json_add_null(o, "relayAuthAesKey") < 0))
                return -ENOMEM;
        if (json_add_string(o, "clientNonce", nonce) < 0 || json_add_string(o, "rvdNonce", relay->rvd_nonce) < 0 ||
            json_add_bool(o, "encryptRvdTraffic", true) < 0 || json_add_string(o, "clientEphemeralPK", pk) < 0 ||
            json_add_string(o, "clientEphemeralPKType", "rsa2048") < 0)
                return -ENOMEM;
        if (twin && (json_add_bool(o, "twinKeys", true) < 0 || json_add_string(o, "relayAtsign", st->relay) < 0))
                return -ENOMEM;
        return dart_json_encode(o, ret);
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "root-domain", required_argument, NULL, 'R' }, { "ca-file", required_argument, NULL, 'C' },
                { "key-file", required_argument, NULL, 'k' },    { "from", required_argument, NULL, 'f' },
                { "to", required_argument, NULL, 't' },          { "device", required_argument, NULL, 'd' },
                { "srvd", required_argument, NULL, 'r' },        { "twin", no_argument, NULL, 'T' },
                {}
        };
        NpClientOptions co = { .program = "noports-baseline-client" };
        State st = {};
        NpClient c;
        _cleanup_(np_relay_reply_freep) NpRelayReply *relay = NULL;
        _cleanup_(envelope_freep) Envelope *e = NULL;
        _cleanup_(at_rsa_private_freep) AtRsaPrivate *ephemeral = NULL;
        _cleanup_(at_rsa_public_freep) AtRsaPublic *ephemeral_pub = NULL, *device_pk = NULL;
        _cleanup_(session_key_freep) SessionKey *key = NULL, *key_d2c = NULL;
        _cleanup_free_ char *nonce = NULL, *regex = NULL, *pk = NULL, *request = NULL, *text = NULL, *key_name = NULL,
                            *auth = NULL, *relay_json = NULL;
        NpRelayRequest rr = {};
        bool twin = false;
        json_t *j = NULL, *v;
        const char *k;
        int opt, r;

        while ((opt = getopt_long(argc, argv, "k:f:t:d:r:", options, NULL)) >= 0)
                switch (opt) {
                case 'R': co.root_server = optarg; break;
                case 'C': co.ca_file = optarg; break;
                case 'k': co.key_file = optarg; break;
                case 'f': co.atsign = st.me = optarg; break;
                case 't': st.to = optarg; break;
                case 'd': st.device = optarg; break;
                case 'r': st.relay = optarg; break;
                case 'T': twin = true; break;
                default: return 2;
                }
        if (!co.root_server || !co.key_file || !st.me || !st.to || !st.device || !st.relay)
                return fprintf(stderr, "usage: see the comment at the top of the source\n"), 2;

        if ((r = np_client_open(&c, &co)) < 0)
                return 1;
        np_session_id_new(st.sid);
        if (np_nonce_new(&nonce) < 0 || asprintf(&st.key_relay, "%s:%s.sshrvd%s", st.me, st.sid, st.relay) < 0 ||
            asprintf(&st.key_response, "%s:%s.%s.sshnp%s", st.me, st.sid, st.device, st.to) < 0 ||
            asprintf(&regex, "%s", st.sid) < 0)
                return die("memory", -ENOMEM);
        if ((r = np_client_monitor(&c, regex, on_notification, &st)) < 0)
                return die("monitor", r);

        /* the relay request of 5.x (SocketRendezvousRequestMessage without the newer fields) */
        rr = (NpRelayRequest){ .session_id = st.sid, .atsign_a = (char *) st.me, .atsign_b = (char *) st.to,
                               .authenticate_socket_a = true, .authenticate_socket_b = true, .client_nonce = nonce };
        if ((r = np_relay_request_to_json(&rr, &j)) < 0 || (r = dart_json_encode(j, &relay_json)) < 0)
                return die("relay request", r);
        json_decref(j);
        if (asprintf(&key_name, "%s.request_ports.sshrvd", st.device) < 0)
                return die("memory", -ENOMEM);
        if ((r = np_client_notify(&c, st.relay, key_name, relay_json)) < 0)
                return die("relay request notify", r);
        if ((r = np_client_wait(&c, have_relay, &st, WAIT_USEC)) < 0)
                return die("waiting for the relay", r);
        if ((r = np_relay_reply_parse(st.relay_reply, strlen(st.relay_reply), &relay)) < 0 || !relay->rvd_nonce)
                return die("relay reply", r < 0 ? r : -EBADMSG);

        if ((r = at_rsa_generate(2048, &ephemeral)) < 0 || (r = at_rsa_private_get_public(ephemeral, &ephemeral_pub)) < 0 ||
            (r = at_rsa_public_to_base64(ephemeral_pub, &pk)) < 0)
                return die("ephemeral key", r);
        if ((r = build_request(&st, relay, nonce, pk, twin, &request)) < 0 ||
            (r = dart_json_parse_object(request, strlen(request), 65536, &j)) < 0 ||
            (r = envelope_sign(j, c.keys->encrypt_private, &text)) < 0)
                return die("ssh_request", r);
        json_decref(j);
        free(key_name);
        if (asprintf(&key_name, "ssh_request.%s.sshnp", st.device) < 0)
                return die("memory", -ENOMEM);
        if ((r = np_client_notify(&c, st.to, key_name, text)) < 0)
                return die("ssh_request notify", r);
        if ((r = np_client_wait(&c, have_response, &st, WAIT_USEC)) < 0)
                return die("waiting for the daemon", r);
        if (st.response[0] != '{')
                return fprintf(stderr, "noports-baseline-client: the daemon refused: %s\n", st.response), 1;

        /* the answer: signed by the device, then its fields as a client reads them */
        if ((r = envelope_parse(st.response, strlen(st.response), &e)) < 0 ||
            (r = np_client_public_key(&c, st.to, &device_pk)) < 0 || (r = envelope_verify(e, device_pk)) < 0)
                return die("the daemon's answer is not signed by it", r);
        printf("RELAY_HOST=%s\nRELAY_PORT=%u\nRELAY_PORT_B=%u\nSESSION_ID=%s\nFIELDS=", relay->host, relay->port_a,
               relay->port_b, st.sid);
        bool first = true;
        json_object_foreach(e->payload, k, v) {
                printf("%s%s", first ? "" : ",", k);
                first = false;
        }
        printf("\n");
        /* a 5.x client reads sessionAESKey/sessionIV; newer ones fall back to aesKeyC2D/ivC2D */
        bool old_names = json_object_get(e->payload, "sessionAESKey") != NULL;
        r = session_unwrap_key(ephemeral, json_string_value(json_object_get(e->payload, old_names ? "sessionAESKey" : "aesKeyC2D")),
                               json_string_value(json_object_get(e->payload, old_names ? "sessionIV" : "ivC2D")), &key);
        if (r < 0)
                return die("unwrapping the session key", r);
        if (json_is_string(json_object_get(e->payload, "aesKeyD2C"))) {
                r = session_unwrap_key(ephemeral, json_string_value(json_object_get(e->payload, "aesKeyD2C")),
                                       json_string_value(json_object_get(e->payload, "ivD2C")), &key_d2c);
                if (r < 0)
                        return die("unwrapping the D2C key", r);
        }
        if ((r = relay_auth_build(st.sid, nonce, relay->rvd_nonce, c.keys->encrypt_private, &auth)) < 0)
                return die("relay auth line", r);
        printf("RV_AUTH=%s\nRV_AES=%s\nRV_IV=%s\n", auth, key->key_b64, key->iv_b64);
        if (key_d2c)
                printf("RV_AES_D2C=%s\nRV_IV_D2C=%s\n", key_d2c->key_b64, key_d2c->iv_b64);
        fflush(stdout);
        free(st.key_relay);
        free(st.key_response);
        free(st.relay_reply);
        free(st.response);
        np_client_close(&c);
        return 0;
}
