/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The library as the agent uses it: several threads, one HdCtx each, transactions on
 * different IOMMU groups at the same time. Shared files (the origins, the sim's state) must
 * not lose updates, and atomic replacement must not collide on its temporary file.
 */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "testlib.h"

#define N_THREADS 4
#define N_PER_THREAD 50

typedef struct {
        const HdTestFixture *fx;
        guint index;
        gboolean ok;
} Worker;

static gpointer set_origins(gpointer data)
{
        Worker *w = data;
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(w->fx);

        w->ok = TRUE;
        for (guint i = 0; i < N_PER_THREAD; i++) {
                g_autofree char *name = g_strdup_printf("0000:%02x:%02x.0", w->index + 1, i);
                g_autoptr(GError) error = NULL;
                if (!hd_journal_set_origin(ctx, name, "nouveau", NULL, &error)) {
                        g_printerr("%s\n", error->message);
                        w->ok = FALSE;
                }
        }
        return NULL;
}

static void test_origins_from_threads(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        Worker workers[N_THREADS];
        GThread *threads[N_THREADS];

        for (guint t = 0; t < N_THREADS; t++) {
                workers[t] = (Worker){ fx, t, FALSE };
                threads[t] = g_thread_new("origins", set_origins, &workers[t]);
        }
        for (guint t = 0; t < N_THREADS; t++) {
                g_thread_join(threads[t]);
                g_assert_true(workers[t].ok);
        }
        /* every origin written by every thread is there */
        for (guint t = 0; t < N_THREADS; t++)
                for (guint i = 0; i < N_PER_THREAD; i++) {
                        g_autofree char *name = g_strdup_printf("0000:%02x:%02x.0", t + 1, i);
                        g_autofree char *drv = NULL;
                        g_assert_true(hd_journal_get_origin(ctx, name, &drv, NULL));
                        g_assert_cmpstr(drv, ==, "nouveau");
                }
}

static gpointer replace_file(gpointer data)
{
        Worker *w = data;
        g_autofree char *dir = g_strdup(w->fx->root);
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        w->ok = fd >= 0;
        for (guint i = 0; i < N_PER_THREAD && w->ok; i++) {
                g_autoptr(GError) error = NULL;
                if (!hd_write_file_atomic_at(fd, "shared", "x\n", -1, &error)) {
                        g_printerr("%s\n", error->message);
                        w->ok = FALSE;
                }
        }
        if (fd >= 0)
                close(fd);
        return NULL;
}

static void test_atomic_write_from_threads(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        Worker workers[N_THREADS];
        GThread *threads[N_THREADS];

        for (guint t = 0; t < N_THREADS; t++) {
                workers[t] = (Worker){ fx, t, FALSE };
                threads[t] = g_thread_new("write", replace_file, &workers[t]);
        }
        for (guint t = 0; t < N_THREADS; t++) {
                g_thread_join(threads[t]);
                g_assert_true(workers[t].ok);
        }
}

typedef struct {
        const HdTestFixture *fx;
        const char *address;
        gboolean group;
        gboolean ok;
} Tx;

static gpointer detach_attach(gpointer data)
{
        Tx *tx = data;
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(tx->fx);
        HdAddress a = hd_test_address(tx->address);
        HdBindOptions opts = { .group = tx->group };

        tx->ok = TRUE;
        for (guint i = 0; i < 5 && tx->ok; i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(HdBindReport) d = hd_bind_detach(ctx, &a, 1, &opts, &error);
                g_autoptr(HdBindReport) r = NULL;
                if (!d) {
                        g_printerr("detach %s: %s\n", tx->address, error->message);
                        tx->ok = FALSE;
                        break;
                }
                r = hd_bind_attach(ctx, &a, 1, &opts, &error);
                if (!r) {
                        g_printerr("attach %s: %s\n", tx->address, error->message);
                        tx->ok = FALSE;
                }
        }
        return NULL;
}

/* Transactions on groups 1 and 3 in two threads, on the sim backend: every one succeeds and
 * every device ends on the driver it started on. */
static void test_transactions_on_two_groups(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        Tx a = { fx, "0000:01:00.0", TRUE, FALSE };
        Tx b = { fx, "0000:00:14.0", FALSE, FALSE };
        GThread *ta = g_thread_new("a", detach_attach, &a);
        GThread *tb = g_thread_new("b", detach_attach, &b);

        g_thread_join(ta);
        g_thread_join(tb);
        g_assert_true(a.ok);
        g_assert_true(b.ok);
        {
                g_autofree char *gpu = hd_test_driver(fx, "0000:01:00.0");
                g_autofree char *audio = hd_test_driver(fx, "0000:01:00.1");
                g_autofree char *usb = hd_test_driver(fx, "0000:00:14.0");
                g_assert_cmpstr(gpu, ==, "nouveau");
                g_assert_cmpstr(audio, ==, "snd_hda_intel");
                g_assert_cmpstr(usb, ==, "xhci_hcd");
        }
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/threads/origins", test_origins_from_threads);
        g_test_add_func("/threads/atomic-write", test_atomic_write_from_threads);
        g_test_add_func("/threads/two-groups", test_transactions_on_two_groups);
        return g_test_run();
}
