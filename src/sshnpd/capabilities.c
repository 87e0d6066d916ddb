/* SPDX-License-Identifier: BSD-3-Clause */
#include "capabilities.h"

/* upstream noports_core common/features.dart: the control-protocol version that introduced each
 * feature ("since"); npCpVersion is derived from it (DaemonFeature.latestVersion). */
static const struct {
        NpFeature feature;
        const char *since;
} feature_since[] = {
        { NP_FEATURE_ACCEPTS_PUBLIC_KEYS, "1.0.0" },
        { NP_FEATURE_SR_AUTH, "1.1.0" },
        { NP_FEATURE_SR_E2EE, "1.1.0" },
        { NP_FEATURE_SUPPORTS_PORT_CHOICE, "1.2.0" },
        { NP_FEATURE_ADJUSTABLE_TIMEOUT, "1.3.0" },
        { NP_FEATURE_CONTROL_HEARTBEATS, "1.4.0" },
        { NP_FEATURE_SUPPORTS_RAM_ESCR, "1.4.0" },
        { NP_FEATURE_TWIN_KEYS, "1.5.0" },
};

unsigned sshnpd_features_implemented(const SshnpdArgs *args) {
        /* accepting ssh public keys is implemented (-s turns it on); the device side of srv
         * ignores control-channel heartbeats (src/srv/control.c); ESCR relay auth is not
         * implemented: such requests are refused (requests.c) */
        unsigned f = NP_FEATURE_ACCEPTS_PUBLIC_KEYS | NP_FEATURE_SR_AUTH | NP_FEATURE_SR_E2EE |
                     NP_FEATURE_SUPPORTS_PORT_CHOICE | NP_FEATURE_ADJUSTABLE_TIMEOUT | NP_FEATURE_CONTROL_HEARTBEATS;

        if (!args->no_twin_keys)
                f |= NP_FEATURE_TWIN_KEYS;
        return f;
}

unsigned sshnpd_features(const SshnpdArgs *args) {
        unsigned f = sshnpd_features_implemented(args);

        if (!args->sshpublickey)
                f &= ~(unsigned) NP_FEATURE_ACCEPTS_PUBLIC_KEYS;
        return f;
}

unsigned sshnpd_features_present(const SshnpdArgs *args) {
        /* the baseline five always (as 5.x daemons write them); the newer ones only when true:
         * with --no-twin-keys there is no twinKeys field at all, as from a daemon that predates it */
        return NP_FEATURE_BASELINE_MASK | (sshnpd_features(args) & ~(unsigned) NP_FEATURE_BASELINE_MASK);
}

const char *sshnpd_np_cp_version(unsigned implemented) {
        const char *best = NULL;

        /* the table is in "since" order: walk it until the first missing feature, then the
         * last version completed before that one's version began */
        for (size_t i = 0; i < ELEMENTSOF(feature_since); i++) {
                if (!(implemented & feature_since[i].feature)) {
                        /* a version is complete only if all of its features are */
                        for (size_t j = i; j > 0; j--)
                                if (!streq(feature_since[j - 1].since, feature_since[i].since))
                                        return feature_since[j - 1].since;
                        return NULL;
                }
                best = feature_since[i].since;
        }
        return best;
}

bool sshnpd_twin_keys_for(const SshnpdArgs *args, const NpSessionRequest *req) {
        /* upstream (newer C sshnpd and sshnpd_impl.dart startNpt): twin only with encryption */
        return !args->no_twin_keys && req->twin_keys && req->encrypt_rvd_traffic;
}
