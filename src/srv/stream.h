/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <systemd/sd-event.h>

#include "aes.h"
#include "macro.h"

/* One relayed connection inside srv: a local socket and a relay socket joined both ways. Clear
 * traffic (both ciphers NULL) is spliced in the kernel as the relay does (src/srvd/splice_pair.h);
 * encrypted traffic is copied through a buffer per direction with AES-256-CTR applied in place
 * (local -> relay encrypted with `out`, relay -> local decrypted with `in`). Each
 * cipher state runs continuously over its direction of the stream, from counter = IV.
 * (upstream: noports_core srv_impl.dart createEncrypter/createDecrypter on DartAesCtr streams) */

#define SRV_STREAM_BUFFER (64U * 1024U)

typedef struct SrvStream SrvStream;
typedef void (*srv_stream_done_t)(SrvStream *s, void *userdata);

/* Takes ownership of both fds and both ciphers, even on failure. */
int srv_stream_new(sd_event *e, int local_fd, int relay_fd, AtAesCtr *out, AtAesCtr *in,
                   srv_stream_done_t done, void *userdata, SrvStream **ret);
void srv_stream_free(SrvStream *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(SrvStream *, srv_stream_free);
