/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The agent's inventory documents (GET /v1/devices, GET /v1/groups: {"generation": N,
 * "devices"|"groups": [OBJECT...]}) to HdInvItems (store.h), in one pass over the bytes.
 *
 * Why not json-glib: at 1,000 hosts × 128 devices the engine's first sync parsed 140 MB of
 * JSON into JsonNode trees and generated each element's text again; that was the largest part
 * of the engine's CPU time (bench/README.md, "The engine at 1,000 hosts"). This scanner
 * builds no tree: it validates the whole document and copies each element's text.
 *
 * Rules (each tested in tests/test-engine-inventory.c):
 *   - the document is one JSON value (RFC 8259) and an object, followed by whitespace only;
 *     strings are valid UTF-8 without raw control characters and without \u0000 or unpaired
 *     surrogates; nesting is at most 64 deep;
 *   - its member "devices" (or "groups") is an array of objects; when the member appears more
 *     than once the last counts (as with json-glib); other members are validated and skipped;
 *   - an item's data is the element's text with the whitespace between tokens removed (the
 *     agent writes json-glib's escapes, so this equals json-glib's compact generator output);
 *   - devices: key = "address" (a string, required); vendor_id, device_id, driver = those
 *     members when they are strings (else NULL); iommu_group = the member when it is an
 *     integer literal within gint64 (else -1); groups: key = "group" as decimal text when it
 *     is such an integer (required). Only the element's own members count (not nested ones);
 *     a repeated member: the last counts.
 * Anything else: NULL and an error naming the offset.
 */
#pragma once

#include <glib.h>

#include "store.h"

/* @data/@len: the answer's body. Returns HdInvItem* (hd_inv_item_free) or NULL with @error
 * (G_IO_ERROR_INVALID_DATA). */
GPtrArray *hd_inventory_json_parse(const char *data, gsize len, HdInvKind kind, GError **error);
