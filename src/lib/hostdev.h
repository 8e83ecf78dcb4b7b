/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libhostdev: the umbrella header. */
#pragma once

#include "address.h"
#include "backend.h"
#include "bind.h"
#include "ctx.h"
#include "device.h"
#include "group.h"
#include "hd-error.h"
#include "inventory.h"
#include "journal.h"
#include "json-export.h"
#include "lock.h"
#include "pciconfig.h"
#include "snapshot.h"
#include "guest.h"
#include "vm.h"
#include "persist.h"
#include "usage.h"
#include "vfio.h"
