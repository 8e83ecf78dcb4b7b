/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a device the user named (address.h, hd_device_spec_parse) is on this host: a slot
 * becomes the functions present in it, vendor:device ids the one device that has them. An
 * address stays as it is, present or not: the command that takes it says what is missing.
 *
 * Refusals name what matched and say what to give instead: ids that more than one device has
 * list every match; a slot given where one device is wanted lists its functions.
 */
#pragma once

#include <glib.h>

#include "address.h"
#include "ctx.h"

/* Append the addresses @spec (parsed from @text, which messages quote) names to @out (a GArray
 * of HdAddress). @many FALSE: the command takes one device, so a slot must hold exactly one
 * function. @command: how the command is called, for the hint ("hostdev show"). */
gboolean hd_device_spec_resolve(HdCtx *ctx, const HdDeviceSpec *spec, const char *text,
                                gboolean many, const char *command, GArray *out, GError **error);
