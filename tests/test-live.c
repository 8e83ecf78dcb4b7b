/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `hostdev list --json` on the machine running the tests agrees with its /sys, device by
 * device. Read-only: nothing is written anywhere.
 */
#include "config.h"

#include <string.h>

#include "testlib.h"

static void test_list_matches_sys(void)
{
        if (!g_file_test("/sys/bus/pci/devices", G_FILE_TEST_IS_DIR)) {
                g_test_skip("this machine has no /sys/bus/pci");
                return;
        }
        g_assert_cmpuint(hd_test_assert_list_matches_sys(NULL), >, 0);
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/live/list-matches-sys", test_list_matches_sys);
        return g_test_run();
}
