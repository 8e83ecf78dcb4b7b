/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hostile files (issue 11 items 7 and 11): a FIFO, socket, device node or directory where a
 * regular file or a sysfs attribute is expected must never block and never be read. Each
 * case plants one in a fixture copy and runs the CLI or the agent under a hang guard
 * (alarm() in the child: a regression ends as HD_TEST_HUNG and fails, it does not hang the
 * suite; the bound is generous and is not a timed assertion).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fileio.h"
#include "testlib.h"

#define GPU "0000:01:00.0"
#define GUARD 120

static HdTestFixture *pristine;

static void mkfifo_at(const HdTestFixture *fx, const char *rel)
{
        g_autofree char *path = hd_test_path(fx, rel);
        g_autofree char *dir = g_path_get_dirname(path);

        (void)g_remove(path);
        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        g_assert_cmpint(mkfifo(path, 0644), ==, 0);
}

/* Run the CLI; it must end by itself (not hung, not by a signal). Returns the exit code. */
static int run_cli(const HdTestFixture *fx, const char *const *args, char **out, char **err)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autofree char *o = NULL;
        g_autofree char *e = NULL;
        int rc;

        g_ptr_array_add(argv, (gpointer) "--root");
        g_ptr_array_add(argv, fx->root);
        for (const char *const *a = args; *a; a++)
                g_ptr_array_add(argv, (gpointer)*a);
        g_ptr_array_add(argv, NULL);
        rc = hd_test_run_cli_guarded((const char *const *)argv->pdata, NULL, GUARD, &o, &e);
        g_test_message("hostdev %s: exit %d\n%s%s", args[0], rc, o, e);
        g_assert_cmpint(rc, !=, HD_TEST_HUNG);
        g_assert_cmpint(rc, >=, 0);
        g_assert_cmpint(rc, <, 128);
        if (rc != 0)
                g_assert_cmpstr(e, !=, "");
        if (out)
                *out = g_steal_pointer(&o);
        if (err)
                *err = g_steal_pointer(&e);
        return rc;
}

#define RUN_OK(fx, ...)                                                                            \
        do {                                                                                       \
                const char *args_[] = {__VA_ARGS__, NULL};                                         \
                g_assert_cmpint(run_cli(fx, args_, NULL, NULL), ==, 0);                            \
        } while (0)

/* Sysfs attributes that are FIFOs: the scan, show and groups go on without them. */
static void test_attribute_fifo(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_copy(pristine);
        g_autofree char *out = NULL;

        mkfifo_at(fx, "sys/bus/pci/devices/" GPU "/driver_override");
        mkfifo_at(fx, "sys/bus/pci/devices/" GPU "/numa_node");
        mkfifo_at(fx, "sys/bus/pci/devices/" GPU "/reset_method");
        mkfifo_at(fx, "sys/bus/pci/devices/" GPU "/config");
        {
                const char *args[] = {"list", "--json", NULL};
                g_assert_cmpint(run_cli(fx, args, &out, NULL), ==, 0);
                g_assert_nonnull(strstr(out, GPU));
        }
        RUN_OK(fx, "show", GPU, "--json");
        RUN_OK(fx, "groups", "--json");
}

/* The attribute writer (the real backend's) and the readers on a FIFO, in this process:
 * alarm() is the hang guard (SIGALRM ends the test program, which fails it). */
static void test_fileio_fifo(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_copy(pristine);
        g_autoptr(HdCtx) ctx = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GError) error2 = NULL;
        g_autoptr(GBytes) bytes = NULL;
        char buf[64];
        int root_fd;

        mkfifo_at(fx, "sys/bus/pci/devices/" GPU "/driver_override");
        mkfifo_at(fx, "var/lib/hostdev/lock");
        ctx = hd_test_ctx_new(fx);
        root_fd = hd_ctx_get_root_fd(ctx);
        alarm(GUARD);
        g_assert_false(hd_write_attr_at(root_fd, "sys/bus/pci/devices/" GPU "/driver_override",
                                        "vfio-pci", &error));
        g_assert_nonnull(error);
        g_assert_nonnull(strstr(error->message, "driver_override"));
        g_assert_cmpint(hd_read_attr_buf_at(root_fd, "sys/bus/pci/devices/" GPU "/driver_override",
                                            buf, sizeof(buf)),
                        ==, -1);
        bytes =
            hd_read_bytes_at(root_fd, "sys/bus/pci/devices/" GPU "/driver_override", 64, &error2);
        g_assert_null(bytes);
        g_assert_error(error2, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE);
        g_clear_error(&error);
        g_assert_cmpint(hd_lock_file_at(root_fd, "var/lib/hostdev/lock", &error), ==, -1);
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE);
        alarm(0);
}

/* Files of procfs and etc that are FIFOs: readiness checks and kernel-args go on. */
static void test_proc_etc_fifo(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_copy(pristine);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdCtx) ctx = NULL;
        g_autofree char *text = NULL;

        mkfifo_at(fx, "proc/cmdline");
        mkfifo_at(fx, "proc/mounts");
        mkfifo_at(fx, "proc/cpuinfo");
        mkfifo_at(fx, "etc/default/grub");
        mkfifo_at(fx, "etc/os-release");
        {
                const char *args[] = {"kernel-args", "--json", NULL};
                (void)run_cli(fx, args, NULL, NULL);
        }
        {
                const char *args[] = {"check", "--json", NULL};
                (void)run_cli(fx, args, NULL, NULL);
        }
        RUN_OK(fx, "show", GPU, "--json");

        /* The reader itself: a clear error naming the path. */
        ctx = hd_test_ctx_new(fx);
        text = hd_read_file_at(hd_ctx_get_root_fd(ctx), "etc/default/grub", 65536, &error);
        g_assert_null(text);
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE);
        g_assert_nonnull(strstr(error->message, "etc/default/grub"));
        g_assert_nonnull(strstr(error->message, "FIFO"));
}

/* A FIFO in the journal directory and as the sim's state file: recovery, detach and attach
 * end (they may refuse; the journal's own rules decide), nothing blocks. */
static void test_state_fifo(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_copy(pristine);

        mkfifo_at(fx, "var/lib/hostdev/journal/group-1.journal");
        mkfifo_at(fx, "var/lib/hostdev/origins");
        {
                const char *args[] = {"recover", NULL};
                (void)run_cli(fx, args, NULL, NULL);
        }
        {
                const char *args[] = {"detach", GPU, "--group", NULL};
                (void)run_cli(fx, args, NULL, NULL);
        }
        {
                const char *args[] = {"attach", GPU, "--group", NULL};
                (void)run_cli(fx, args, NULL, NULL);
        }
}

static void test_sim_state_fifo(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_copy(pristine);
        const char *args[] = {"detach", GPU, "--group", NULL};

        mkfifo_at(fx, "var/lib/hostdev-sim/state");
        (void)run_cli(fx, args, NULL, NULL);
}

/* Block device holders that fan out and loop (each of 24 "holders" lists all 24): the walk
 * is bounded in count, not only in depth (24^9 steps before). */
static void test_holders_fanout(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_copy(pristine);
        g_autofree char *out = NULL;

        for (int k = -1; k < 24; k++) {
                g_autofree char *name = k < 0 ? g_strdup("nvme0n1") : g_strdup_printf("h%d", k);
                for (int j = 0; j < 24; j++) {
                        g_autofree char *rel =
                            g_strdup_printf("sys/class/block/%s/holders/h%d", name, j);
                        g_autofree char *path = hd_test_path(fx, rel);
                        g_autofree char *dir = g_path_get_dirname(path);
                        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
                        g_assert_true(g_file_set_contents(path, "", 0, NULL));
                }
        }
        {
                const char *args[] = {"show", "0000:02:00.0", "--json", NULL};
                g_assert_cmpint(run_cli(fx, args, &out, NULL), ==, 0);
                g_assert_nonnull(strstr(out, "0000:02:00.0"));
        }
}

static void set_guard(gpointer data)
{
        alarm(GPOINTER_TO_UINT(data));
}

static int free_port(void)
{
        struct sockaddr_in sa = {.sin_family = AF_INET};
        socklen_t len = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        g_assert_cmpint(fd, >=, 0);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
        g_assert_cmpint(getsockname(fd, (struct sockaddr *)&sa, &len), ==, 0);
        close(fd);
        return ntohs(sa.sin_port);
}

/* One HTTP/1.1 request with Connection: close; the whole answer. */
static char *http_get(int port, const char *path, const char *token)
{
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        g_autoptr(GString) answer = g_string_new(NULL);
        g_autofree char *req = g_strdup_printf("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                               "Authorization: Bearer %s\r\n"
                                               "Connection: close\r\n\r\n",
                                               path, token);
        char buf[4096];
        int fd = -1;

        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        /* the agent is starting: retry until it listens (the alarm bounds this) */
        for (;;) {
                fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                g_assert_cmpint(fd, >=, 0);
                if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
                        break;
                close(fd);
                g_usleep(50 * 1000);
        }
        g_assert_cmpint(write(fd, req, strlen(req)), ==, (gssize)strlen(req));
        for (;;) {
                gssize n = read(fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                g_string_append_len(answer, buf, n);
        }
        close(fd);
        return g_string_free(g_steal_pointer(&answer), FALSE);
}

/* The agent serves the device list from a tree whose attributes are FIFOs: before, its
 * scan blocked for good and no request was answered again. The test's own alarm is the
 * hang guard (the agent has one too). */
static void test_agent_attribute_fifo(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_copy(pristine);
        const char *bin = g_getenv("HOSTDEVD");
        g_autofree char *tok = hd_test_path(fx, "agent.token");
        g_autofree char *ro = hd_test_path(fx, "agent-ro.token");
        g_autofree char *listen = NULL;
        g_autofree char *answer = NULL;
        g_autoptr(GError) error = NULL;
        const char *token = "0123456789abcdef0123456789abcdef";
        int port = free_port();
        GPid pid;
        int status;

        g_assert_nonnull(bin);
        mkfifo_at(fx, "sys/bus/pci/devices/" GPU "/driver_override");
        mkfifo_at(fx, "sys/bus/pci/devices/" GPU "/numa_node");
        g_assert_true(g_file_set_contents(tok, token, -1, NULL));
        g_assert_true(g_file_set_contents(ro, "fedcba9876543210fedcba9876543210", -1, NULL));
        g_assert_cmpint(g_chmod(tok, 0600), ==, 0);
        g_assert_cmpint(g_chmod(ro, 0600), ==, 0);
        listen = g_strdup_printf("127.0.0.1:%d", port);
        {
                const char *argv[] = {bin,
                                      "--root",
                                      fx->root,
                                      "--listen",
                                      listen,
                                      "--libvirt-uri",
                                      "test:///default",
                                      "--token-file",
                                      tok,
                                      "--read-only-token-file",
                                      ro,
                                      NULL};
                g_spawn_async(NULL, (char **)argv, NULL,
                              G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                                  G_SPAWN_STDERR_TO_DEV_NULL,
                              set_guard, GUINT_TO_POINTER(GUARD), &pid, &error);
                g_assert_no_error(error);
        }
        alarm(GUARD);
        answer = http_get(port, "/v1/devices", token);
        alarm(0);
        kill(pid, SIGTERM);
        g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
        g_spawn_close_pid(pid);
        g_assert_true(g_str_has_prefix(answer, "HTTP/1.1 200"));
        g_assert_nonnull(strstr(answer, GPU));
}

/* Run hostdevd with @token_file as its token file; it must stop at once with an error. */
static char *agent_refuses(const HdTestFixture *fx, const char *token_file)
{
        const char *bin = g_getenv("HOSTDEVD");
        g_autofree char *ro = hd_test_path(fx, "ro.token");
        g_autofree char *err = NULL;
        int rc;

        g_assert_nonnull(bin);
        {
                const char *argv[] = {bin,
                                      "--root",
                                      fx->root,
                                      "--listen",
                                      "127.0.0.1:0",
                                      "--libvirt-uri",
                                      "test:///default",
                                      "--token-file",
                                      token_file,
                                      "--read-only-token-file",
                                      ro,
                                      NULL};
                rc = hd_test_run_guarded(argv, NULL, GUARD, NULL, &err);
        }
        g_test_message("hostdevd: exit %d\n%s", rc, err);
        g_assert_cmpint(rc, !=, HD_TEST_HUNG);
        g_assert_cmpint(rc, >, 0);
        g_assert_cmpint(rc, <, 128);
        return g_steal_pointer(&err);
}

static void test_token_fifo(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_copy(pristine);
        g_autofree char *fifo = hd_test_path(fx, "token.fifo");
        g_autofree char *err = NULL;

        g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
        err = agent_refuses(fx, fifo);
        g_assert_nonnull(strstr(err, "token.fifo"));
        g_assert_nonnull(strstr(err, "FIFO"));
        g_assert_nonnull(strstr(err, "not a regular file"));
}

/* --token-file /dev/null: refused as not a regular file, never "chmod 600 /dev/null". */
static void test_token_dev_null(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_copy(pristine);
        g_autofree char *err = agent_refuses(fx, "/dev/null");

        g_assert_nonnull(strstr(err, "/dev/null"));
        g_assert_nonnull(strstr(err, "not a regular file"));
        g_assert_null(strstr(err, "chmod"));
}

/* A token file that is a directory, and one far larger than a token. */
static void test_token_other(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_copy(pristine);
        g_autofree char *dir = hd_test_path(fx, "token.d");
        g_autofree char *big = hd_test_path(fx, "token.big");
        g_autofree char *err = NULL;
        g_autofree char *err2 = NULL;
        g_autofree char *text = g_strnfill(1 << 20, 'a');

        g_assert_cmpint(g_mkdir(dir, 0700), ==, 0);
        err = agent_refuses(fx, dir);
        g_assert_nonnull(strstr(err, "not a regular file"));
        g_assert_true(g_file_set_contents(big, text, -1, NULL));
        g_assert_cmpint(g_chmod(big, 0600), ==, 0);
        err2 = agent_refuses(fx, big);
        g_assert_nonnull(strstr(err2, "token.big"));
}

/* hostdevd with @option naming a FIFO: refused at once, naming it, not a start that hangs
 * reading it (the files an operator names: --config, --tls-cert, --tls-key). */
static void assert_agent_refuses_fifo(const char *option, const char *name)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_copy(pristine);
        g_autofree char *fifo = hd_test_path(fx, name);
        g_autofree char *other = hd_test_path(fx, "other.pem");
        g_autofree char *err = NULL;
        const char *bin = g_getenv("HOSTDEVD");
        gboolean tls = strcmp(option, "--config") != 0;
        int rc;

        g_assert_nonnull(bin);
        g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
        g_assert_true(g_file_set_contents(other, "-----BEGIN X-----\n", -1, NULL));
        {
                const char *argv[] = {bin,
                                      "--root",
                                      fx->root,
                                      "--listen",
                                      "127.0.0.1:0",
                                      option,
                                      fifo,
                                      tls ? (strcmp(option, "--tls-cert") == 0 ? "--tls-key"
                                                                               : "--tls-cert")
                                          : NULL,
                                      other,
                                      NULL};
                rc = hd_test_run_guarded(argv, NULL, GUARD, NULL, &err);
        }
        g_test_message("hostdevd %s FIFO: exit %d\n%s", option, rc, err);
        g_assert_cmpint(rc, !=, HD_TEST_HUNG);
        g_assert_cmpint(rc, >, 0);
        g_assert_cmpint(rc, <, 128);
        g_assert_nonnull(strstr(err, name));
        g_assert_nonnull(strstr(err, "not a regular file"));
}

static void test_config_fifo(void)
{
        assert_agent_refuses_fifo("--config", "hostdevd.conf");
}

static void test_tls_fifo(void)
{
        assert_agent_refuses_fifo("--tls-cert", "agent.crt");
        assert_agent_refuses_fifo("--tls-key", "agent.key");
}

int main(int argc, char **argv)
{
        int r;

        g_test_init(&argc, &argv, NULL);
        pristine = hd_test_fixture_new("desktop");
        g_test_add_func("/hostile/files/attribute-fifo", test_attribute_fifo);
        g_test_add_func("/hostile/files/fileio-fifo", test_fileio_fifo);
        g_test_add_func("/hostile/files/proc-etc-fifo", test_proc_etc_fifo);
        g_test_add_func("/hostile/files/state-fifo", test_state_fifo);
        g_test_add_func("/hostile/files/sim-state-fifo", test_sim_state_fifo);
        g_test_add_func("/hostile/files/holders-fanout", test_holders_fanout);
        g_test_add_func("/hostile/files/agent-attribute-fifo", test_agent_attribute_fifo);
        g_test_add_func("/hostile/files/token-fifo", test_token_fifo);
        g_test_add_func("/hostile/files/token-dev-null", test_token_dev_null);
        g_test_add_func("/hostile/files/token-other", test_token_other);
        g_test_add_func("/hostile/files/config-fifo", test_config_fifo);
        g_test_add_func("/hostile/files/tls-fifo", test_tls_fifo);
        r = g_test_run();
        hd_test_fixture_free(pristine);
        return r;
}
