/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Lists of strings (GPtrArray of g_malloc'd char *, freed with g_free): the few operations every
 * module that gathers names for a message needs, in one place.
 */
#pragma once

#include <glib.h>

/* Whether @list (may be NULL) holds a string equal to @s. */
gboolean hd_str_array_contains(const GPtrArray *list, const char *s);

/* Appends a copy of @s unless @list already holds an equal string. */
void hd_str_array_add_unique(GPtrArray *list, const char *s);

/* The strings of @list (may be NULL or empty: "") joined with @sep. */
char *hd_str_array_join(const GPtrArray *list, const char *sep);
