/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `hostdev list --json` on the machine running the tests agrees with its /sys, device by
 * device. Read-only: nothing is written anywhere.
 */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"

static void test_list_matches_sys(void)
{
        if (!g_file_test("/sys/bus/pci/devices", G_FILE_TEST_IS_DIR)) {
                g_test_skip("this machine has no /sys/bus/pci");
                return;
        }
        g_assert_cmpuint(hd_test_assert_list_matches_sys(NULL), >, 0);
}

/* A node hostdev itself has open (inherited from its caller: a shell's redirection) does not
 * make hostdev a holder of it. */
static void test_self_not_a_holder(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(HdCtx) ctx = hd_ctx_new("/", HD_BACKEND_REAL, &error);
        g_autoptr(GPtrArray) nodes = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) holders = NULL;
        int fd;

        if (!g_file_test("/proc/self/fd", G_FILE_TEST_IS_DIR)) {
                g_test_skip("this machine has no /proc");
                return;
        }
        g_assert_no_error(error);
        fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        g_assert_cmpint(fd, >=, 0);
        g_ptr_array_add(nodes, g_strdup("/dev/null"));
        holders = hd_usage_node_holders(ctx, nodes);
        for (guint i = 0; i < holders->len; i++)
                g_assert_cmpint(((HdProcUse *)holders->pdata[i])->pid, !=, (int)getpid());
        close(fd);
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/live/list-matches-sys", test_list_matches_sys);
        g_test_add_func("/live/self-not-a-holder", test_self_not_a_holder);
        return g_test_run();
}
