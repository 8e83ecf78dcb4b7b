/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The engine's facets of an agent's device document (docs/api/openapi.yaml, Device), computed
 * once when the sync stores it (sync.c) so that GET /v1/hosts/{id}/devices filters in SQL:
 *   category  the class category `hostdev list --class` uses: gpu (class 03), net (02),
 *             storage (01), usb (0c03), audio (0401, 0403), bridge (06, or is_bridge without
 *             a class), other;
 *   search    the casefolded text the ?text= filter searches: address, vendor_id:device_id,
 *             vendor, product, class name, driver, separated by '\n' (never in a query term).
 * Nothing here reads a host: only the JSON the agent sent.
 */
#pragma once

#include <json-glib/json-glib.h>

/* The category names, in the order the API documents them. */
extern const char *const hd_device_categories[];
gboolean hd_device_category_valid(const char *name);
/* The category of @device (never NULL, a static string). */
const char *hd_device_category(JsonObject *device);
/* The search text of @device. */
char *hd_device_search_text(JsonObject *device);

/* The same from the members themselves (inventory-json.c reads them without a JSON tree):
 * @klass the "class" member (hex text) or NULL, @is_bridge its "is_bridge"; the strings NULL
 * when absent. */
const char *hd_device_category_of(const char *klass, gboolean is_bridge);
char *hd_device_search_text_of(const char *address, const char *vendor, const char *product,
                               const char *class_name, const char *driver,
                               const char *vendor_id, const char *device_id);
/* A query term as the search text holds it (casefolded). */
char *hd_device_search_term(const char *text);
