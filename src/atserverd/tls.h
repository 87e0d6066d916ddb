/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <gnutls/gnutls.h>

/* Server TLS credentials: the operator's certificate and key, or else a local CA and a server
 * certificate that atserverd creates once in its data directory (ca.pem, ca-key.pem,
 * server.pem, server-key.pem) with the GnuTLS x509 API. The server certificate is valid for
 * every name in hostnames (IP addresses become IP SANs); if a later run asks for a name the
 * existing certificate does not cover, a new one is issued by the same CA. */
int ats_tls_server_credentials(const char *data_dir, const char *cert_file, const char *key_file,
                               char *const *hostnames, gnutls_certificate_credentials_t *ret);

/* Client credentials for server-to-server connections: the system trust store, the data
 * directory's ca.pem if present, and every extra CA file. */
int ats_tls_client_credentials(const char *data_dir, char *const *ca_files,
                               gnutls_certificate_credentials_t *ret);
