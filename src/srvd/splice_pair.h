/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <systemd/sd-event.h>

#include "macro.h"

/* Two connected TCP sockets joined both ways with splice(2) through one pipe per direction:
 * bytes never enter user space and at most a pipe's worth is held per direction. A FIN on one
 * side is passed on as shutdown(SHUT_WR) of the other once its bytes are through; the pair ends
 * when both directions are finished, or at once when either socket fails. */

typedef struct SplicePair SplicePair;
typedef void (*splice_pair_done_t)(SplicePair *p, void *userdata);

/* Takes ownership of fd_a and fd_b (non-blocking) even on failure. */
int splice_pair_new(sd_event *e, int fd_a, int fd_b, splice_pair_done_t done, void *userdata, SplicePair **ret);
/* Bytes moved so far: [0] a->b, [1] b->a */
void splice_pair_bytes(const SplicePair *p, uint64_t ret[2]);
void splice_pair_free(SplicePair *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(SplicePair *, splice_pair_free);
