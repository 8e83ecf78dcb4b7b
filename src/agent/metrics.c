/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Prometheus text exposition (version 0.0.4) of what the agent knows and did. */
#include "config.h"

#include <string.h>

#include "agent.h"

static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                 0.25,  0.5,    1,     2.5,  5,     10};

typedef struct {
        guint64 ok;
        guint64 failed;
} OpCount;

struct HdMetrics {
        GMutex lock;
        guint64 bucket_counts[G_N_ELEMENTS(buckets)];
        guint64 count;
        double sum;
        GHashTable *by_status; /* GUINT_TO_POINTER(status) -> guint64* */
        GHashTable *ops;       /* op name -> OpCount* */
        gint64 started;
};

HdMetrics *hd_metrics_new(void)
{
        HdMetrics *m = g_new0(HdMetrics, 1);

        g_mutex_init(&m->lock);
        m->by_status = g_hash_table_new_full(NULL, NULL, NULL, g_free);
        m->ops = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        m->started = g_get_real_time();
        return m;
}

void hd_metrics_free(HdMetrics *m)
{
        if (!m)
                return;
        g_hash_table_unref(m->by_status);
        g_hash_table_unref(m->ops);
        g_mutex_clear(&m->lock);
        g_free(m);
}

void hd_metrics_request(HdMetrics *m, guint status, double seconds)
{
        guint64 *n;

        g_mutex_lock(&m->lock);
        for (gsize i = 0; i < G_N_ELEMENTS(buckets); i++)
                if (seconds <= buckets[i])
                        m->bucket_counts[i]++;
        m->count++;
        m->sum += seconds;
        n = g_hash_table_lookup(m->by_status, GUINT_TO_POINTER(status));
        if (!n) {
                n = g_new0(guint64, 1);
                g_hash_table_insert(m->by_status, GUINT_TO_POINTER(status), n);
        }
        (*n)++;
        g_mutex_unlock(&m->lock);
}

void hd_metrics_operation(HdMetrics *m, const char *op, gboolean ok)
{
        OpCount *c;

        g_mutex_lock(&m->lock);
        c = g_hash_table_lookup(m->ops, op);
        if (!c) {
                c = g_new0(OpCount, 1);
                g_hash_table_insert(m->ops, g_strdup(op), c);
        }
        if (ok)
                c->ok++;
        else
                c->failed++;
        g_mutex_unlock(&m->lock);
}

/* The keys of @table, sorted with @cmp (a borrowed view). */
static GPtrArray *sorted_keys(GHashTable *table, GCompareFunc cmp)
{
        GPtrArray *keys = g_ptr_array_new();
        GHashTableIter it;
        gpointer key;

        g_hash_table_iter_init(&it, table);
        while (g_hash_table_iter_next(&it, &key, NULL))
                g_ptr_array_add(keys, key);
        g_ptr_array_sort(keys, cmp);
        return keys;
}

static gint cmp_uint(gconstpointer a, gconstpointer b)
{
        guint x = GPOINTER_TO_UINT(*(gconstpointer *)a), y = GPOINTER_TO_UINT(*(gconstpointer *)b);

        return x < y ? -1 : x > y;
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
        return g_strcmp0(*(const char *const *)a, *(const char *const *)b);
}

char *hd_metrics_render(HdMetrics *m, HdAgent *agent)
{
        GString *s = g_string_new(NULL);
        g_autoptr(GPtrArray) keys = NULL;
        int n_devices, n_groups;

        hd_watch_get_counts(agent->watch, &n_devices, &n_groups);
        g_string_append(s, "# HELP hostdev_devices PCI devices on the host.\n"
                           "# TYPE hostdev_devices gauge\n");
        g_string_append_printf(s, "hostdev_devices %d\n", MAX(n_devices, 0));
        g_string_append(s, "# HELP hostdev_iommu_groups IOMMU groups on the host.\n"
                           "# TYPE hostdev_iommu_groups gauge\n");
        g_string_append_printf(s, "hostdev_iommu_groups %d\n", MAX(n_groups, 0));
        g_string_append(s, "# HELP hostdev_inventory_generation Moves when a device appears, "
                           "disappears or changes driver.\n"
                           "# TYPE hostdev_inventory_generation gauge\n");
        g_string_append_printf(s, "hostdev_inventory_generation %" G_GUINT64_FORMAT "\n",
                               hd_watch_get_generation(agent->watch));
        g_string_append(s, "# HELP hostdev_event_source The source of device changes heard now "
                           "(1; udevd and kernel follow udevd starting and stopping).\n"
                           "# TYPE hostdev_event_source gauge\n");
        {
                const char *label = hd_watch_get_source_label(agent->watch);
                for (const char *const *l = hd_watch_source_labels; *l; l++)
                        g_string_append_printf(s, "hostdev_event_source{source=\"%s\"} %d\n", *l,
                                               strcmp(*l, label) == 0);
        }
        g_string_append(s, "# HELP hostdev_event_source_switches_total Switches between udevd's "
                           "source and the kernel's.\n"
                           "# TYPE hostdev_event_source_switches_total counter\n");
        g_string_append_printf(s, "hostdev_event_source_switches_total %" G_GUINT64_FORMAT "\n",
                               hd_watch_get_source_switches(agent->watch));
        g_string_append(s, "# HELP hostdev_operations_in_flight Mutations running now.\n"
                           "# TYPE hostdev_operations_in_flight gauge\n");
        g_string_append_printf(s, "hostdev_operations_in_flight %u\n", agent->inflight);
        g_string_append(s, "# HELP hostdev_long_polls_waiting Requests waiting (?wait=N) for the "
                           "next inventory generation.\n"
                           "# TYPE hostdev_long_polls_waiting gauge\n");
        g_string_append_printf(s, "hostdev_long_polls_waiting %u\n",
                               hd_watch_get_waiting(agent->watch));
        if (agent->server) {
                g_string_append(s, "# HELP hostdev_http_connections Open HTTP connections.\n"
                                   "# TYPE hostdev_http_connections gauge\n");
                g_string_append_printf(s, "hostdev_http_connections %u\n",
                                       hd_http_server_get_connections(agent->server));
                g_string_append(s, "# HELP hostdev_http_connections_max The connection limit "
                                   "(max-connections).\n"
                                   "# TYPE hostdev_http_connections_max gauge\n");
                g_string_append_printf(s, "hostdev_http_connections_max %u\n",
                                       hd_http_server_get_max_connections(agent->server));
        }
        g_string_append(s, "# HELP hostdev_operations_parallel_max The most operations that "
                           "worked at the same time (on different IOMMU groups).\n"
                           "# TYPE hostdev_operations_parallel_max gauge\n");
        g_string_append_printf(s, "hostdev_operations_parallel_max %d\n",
                               g_atomic_int_get(&agent->running_max));

        g_mutex_lock(&m->lock);
        keys = sorted_keys(m->ops, cmp_str);
        g_string_append(s, "# HELP hostdev_operations_total Operations (detach, attach, verify, "
                           "VM lifecycle) by outcome.\n"
                           "# TYPE hostdev_operations_total counter\n");
        for (guint i = 0; i < keys->len; i++) {
                OpCount *c = g_hash_table_lookup(m->ops, keys->pdata[i]);
                g_string_append_printf(
                    s,
                    "hostdev_operations_total{op=\"%s\",result=\"ok\"} %" G_GUINT64_FORMAT "\n"
                    "hostdev_operations_total{op=\"%s\",result=\"failed\"} %" G_GUINT64_FORMAT "\n",
                    (char *)keys->pdata[i], c->ok, (char *)keys->pdata[i], c->failed);
        }
        g_string_append(s, "# HELP hostdev_operation_failures_total Operations that failed or "
                           "were refused.\n"
                           "# TYPE hostdev_operation_failures_total counter\n");
        for (guint i = 0; i < keys->len; i++) {
                OpCount *c = g_hash_table_lookup(m->ops, keys->pdata[i]);
                g_string_append_printf(
                    s, "hostdev_operation_failures_total{op=\"%s\"} %" G_GUINT64_FORMAT "\n",
                    (char *)keys->pdata[i], c->failed);
        }
        g_clear_pointer(&keys, g_ptr_array_unref);
        keys = sorted_keys(m->by_status, cmp_uint);
        g_string_append(s, "# HELP hostdev_http_requests_total HTTP requests by status.\n"
                           "# TYPE hostdev_http_requests_total counter\n");
        for (guint i = 0; i < keys->len; i++) {
                guint64 *n = g_hash_table_lookup(m->by_status, keys->pdata[i]);
                g_string_append_printf(
                    s, "hostdev_http_requests_total{code=\"%u\"} %" G_GUINT64_FORMAT "\n",
                    GPOINTER_TO_UINT(keys->pdata[i]), *n);
        }
        g_string_append(s, "# HELP hostdev_http_request_duration_seconds Time to answer a "
                           "request.\n"
                           "# TYPE hostdev_http_request_duration_seconds histogram\n");
        for (gsize i = 0; i < G_N_ELEMENTS(buckets); i++) {
                char le[G_ASCII_DTOSTR_BUF_SIZE];
                g_ascii_formatd(le, sizeof(le), "%g", buckets[i]);
                g_string_append_printf(
                    s,
                    "hostdev_http_request_duration_seconds_bucket{le=\"%s\"} %" G_GUINT64_FORMAT
                    "\n",
                    le, m->bucket_counts[i]);
        }
        {
                char sum[G_ASCII_DTOSTR_BUF_SIZE];
                g_ascii_formatd(sum, sizeof(sum), "%.6f", m->sum);
                g_string_append_printf(
                    s,
                    "hostdev_http_request_duration_seconds_bucket{le=\"+Inf\"} %" G_GUINT64_FORMAT
                    "\n"
                    "hostdev_http_request_duration_seconds_sum %s\n"
                    "hostdev_http_request_duration_seconds_count %" G_GUINT64_FORMAT "\n",
                    m->count, sum, m->count);
        }
        g_string_append(s, "# HELP hostdev_agent_start_time_seconds When hostdevd started.\n"
                           "# TYPE hostdev_agent_start_time_seconds gauge\n");
        g_string_append_printf(s, "hostdev_agent_start_time_seconds %" G_GINT64_FORMAT "\n",
                               m->started / G_USEC_PER_SEC);
        g_mutex_unlock(&m->lock);
        return g_string_free(s, FALSE);
}
