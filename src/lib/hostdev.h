/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libhostdev: the umbrella header. */
#pragma once

#include "address.h"
#include "backend.h"
#include "bootloader.h"
#include "cmdline.h"
#include "ctx.h"
#include "device.h"
#include "group.h"
#include "hd-error.h"
#include "host.h"
#include "inventory.h"
#include "json-export.h"
#include "pciconfig.h"
