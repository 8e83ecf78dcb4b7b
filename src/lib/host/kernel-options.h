/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel options by name ("iommu", "vfio-ids=IDS", ...) that `hostdev kernel-args`, the
 * agent's PUT /v1/kernel-args and the engine's kernel tab accept; what each stands for per CPU
 * vendor is cmdline.c's business. A leaf on GLib alone: hostdev-engine compiles it too
 * (src/engine/meson.build), so its validation cannot drift from the agents'.
 */
#pragma once

#include <glib.h>

/* The named options. */
typedef struct {
        const char *name;     /* "iommu" */
        const char *summary;  /* for --help */
        gboolean takes_value; /* "vfio-ids=10de:1b80,10de:10f0" */
} HdKernelOption;

const HdKernelOption *hd_kernel_options(gsize *n_options);
/* "iommu, iommu-pt, nested, ..." for messages. */
char *hd_kernel_option_names(void);
