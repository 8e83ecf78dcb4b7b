/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the unit tests: fixture trees and running the CLI.
 *
 * Every test gets its own copy of a fixture: hd_test_fixture_new() builds the topology
 * tests/fixtures/topologies/NAME.json into a fresh temporary directory with
 * tests/fixtures/mkfixture.py, and hd_test_fixture_free() removes it.
 */
#pragma once

#include <glib.h>
#include <stdarg.h>

#include "hostdev.h"

typedef struct {
        char *root; /* the machine root: <root>/sys, <root>/proc, ... */
} HdTestFixture;

HdTestFixture *hd_test_fixture_new(const char *topology);
void hd_test_fixture_free(HdTestFixture *fx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdTestFixture, hd_test_fixture_free)

/* A fresh temporary directory, on tmpfs when there is one. */
char *hd_test_make_tmp_dir(void);

/* A context on the fixture with the sim backend; asserts on failure. */
HdCtx *hd_test_ctx_new(const HdTestFixture *fx);

/* A copy of @fx in a new temporary directory (cheaper than building the topology again). */
HdTestFixture *hd_test_fixture_copy(const HdTestFixture *fx);

/* The driver bound to @addr in the fixture (NULL: none) and its driver_override (NULL when
 * "(null)"), read straight from the tree. */
char *hd_test_driver(const HdTestFixture *fx, const char *addr);
char *hd_test_override(const HdTestFixture *fx, const char *addr);

/* Parse @addr, asserting it is valid. */
HdAddress hd_test_address(const char *addr);

/* Path of a file below the fixture root. */
char *hd_test_path(const HdTestFixture *fx, const char *relpath);

/* Run the built `hostdev` binary with @argv (NULL-terminated, without the program name) and
 * an optional extra environment (NULL-terminated "NAME=value" list). Returns the exit
 * status; stdout and stderr are returned when the pointers are non-NULL. */
int hd_test_run_cli(const char *const *argv, const char *const *env, char **out, char **err);

/* Like hd_test_run_cli() for any program (@argv[0] is its path), with a hang guard: the
 * child gets alarm(@guard_seconds) before exec, so a regression that blocks ends as
 * HD_TEST_HUNG instead of hanging the suite. The bound is a guard, not a timed assertion:
 * make it generous. */
#define HD_TEST_HUNG (-2)
int hd_test_run_guarded(const char *const *argv, const char *const *env, guint guard_seconds,
                        char **out, char **err);
/* The same for the built `hostdev` binary (@argv without the program name). */
int hd_test_run_cli_guarded(const char *const *argv, const char *const *env, guint guard_seconds,
                            char **out, char **err);

/* Run `hostdev list --json` on @root (NULL: the live machine) and check every device against
 * the kernel's attribute files under @root: ids, revision, class, driver, IOMMU group, NUMA
 * node. The library reads many of these from config space or a VF's PF; this is the proof
 * that it sees what the kernel shows. Returns the number of devices checked. */
guint hd_test_assert_list_matches_sys(const char *root);

/* @error is HD_ERROR @code and its message holds each word of the NULL-terminated list @words;
 * a failure names @what. */
void hd_test_assert_error_words(const GError *error, int code, const char *what, va_list words);

/* Parse @text as JSON and return the root node (asserting that it parses). */
#include <json-glib/json-glib.h>
JsonNode *hd_test_parse_json(const char *text);

/* The topology tests/fixtures/topologies/@topology.json, to change before
 * hd_test_fixture_from_topology(). */
JsonNode *hd_test_topology_load(const char *topology);
/* A fixture built by mkfixture.py from @topology (a changed topology: never cached). */
HdTestFixture *hd_test_fixture_from_topology(JsonNode *topology);
/* @topology without an IOMMU: host.iommu null, no intel_iommu= on the running kernel's nor on
 * GRUB's command lines. */
HdTestFixture *hd_test_fixture_without_iommu(const char *topology);
