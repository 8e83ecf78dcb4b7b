/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The store's filtered pages (devices of a host, the audit log) and the collections'
 * ETags (store.h, "filtered pages and collection ETags"). Read-only calls: one statement or
 * two (a count and a page) each.
 *
 * Filters are bound parameters, never SQL text; a literal substring becomes a LIKE pattern
 * with '\' escaping '%', '_' and '\' itself (ESCAPE '\', which PostgreSQL spells the same).
 * Matching is case-exact on texts both sides casefolded (devices.h), so SQLite's ASCII-only
 * case folding of LIKE and PostgreSQL's case-sensitive LIKE give the same rows.
 */
#include "config.h"

#include <string.h>

#include "store-sql-private.h"

/* '%' + @literal with LIKE's wildcards escaped + (@suffix_wild ? '%' : ""). */
static char *like_pattern(const char *literal, gboolean prefix_wild, gboolean suffix_wild)
{
        GString *p = g_string_new(prefix_wild ? "%" : "");

        for (const char *c = literal; *c; c++) {
                if (*c == '%' || *c == '_' || *c == '\\')
                        g_string_append_c(p, '\\');
                g_string_append_c(p, *c);
        }
        if (suffix_wild)
                g_string_append_c(p, '%');
        return g_string_free(p, FALSE);
}

typedef struct {
        const char *host_id;
        const HdDeviceFilter *f;
        const char *text;
} DevicesQuery;

static void devices_bind(HdDbStmt *st, gconstpointer data)
{
        const DevicesQuery *q = data;

        sq_bind_named_text(st, ":host", q->host_id);
        sq_bind_named_text(st, ":category", q->f->category);
        sq_bind_named_text(st, ":driver", q->f->driver);
        sq_bind_named_text(st, ":text", q->text);
        sq_bind_named_int64(st, ":group", q->f->iommu_group);
}

GPtrArray *hd_store_devices_list(HdStore *s, const char *host_id, const HdDeviceFilter *f,
                                 guint *total, GError **error)
{
        g_autoptr(GString) where = g_string_new(" WHERE host_id = :host");
        g_autofree char *text = f->text ? like_pattern(f->text, TRUE, TRUE) : NULL;
        const DevicesQuery q = {host_id, f, text};
        g_autoptr(Stmt) list = NULL;
        gboolean no_driver = g_strcmp0(f->driver, "none") == 0;

        if (!sq_host_exists(s, host_id, error))
                return NULL;
        if (f->category)
                g_string_append(where, " AND category = :category");
        if (no_driver)
                g_string_append(where, " AND driver IS NULL");
        else if (f->driver)
                g_string_append(where, " AND driver = :driver");
        if (text)
                g_string_append(where, " AND search LIKE :text ESCAPE '\\'");
        if (f->iommu_group >= 0)
                g_string_append(where, " AND iommu_group = :group");
        list = sq_page(s, "data", " FROM devices", where->str, "address", f->limit, f->offset,
                       devices_bind, &q, "devices", total, error);
        if (!list)
                return NULL;
        return sq_texts(s, list, "devices", error);
}

static gboolean is_uuid_at(const char *p)
{
        for (guint i = 0; i < 36; i++) {
                gboolean dash = i == 8 || i == 13 || i == 18 || i == 23;
                if (!p[i] || (dash ? p[i] != '-' : !g_ascii_isxdigit(p[i])))
                        return FALSE;
        }
        return !g_ascii_isalnum(p[36]) && p[36] != '-';
}

char *sq_event_subject(const char *object)
{
        for (const char *p = object; p && *p; p++)
                if ((p == object || (!g_ascii_isalnum(p[-1]) && p[-1] != '-')) && is_uuid_at(p))
                        return g_ascii_strdown(p, 36);
        return g_strdup("");
}

GPtrArray *hd_store_events_query(HdStore *s, const HdEventFilter *f, GError **error)
{
        g_autoptr(GString) sql = g_string_new("SELECT id, at, actor, action, object, result, "
                                              "message FROM events WHERE id > :since");
        g_autofree char *host = f->host_id ? like_pattern(f->host_id, TRUE, TRUE) : NULL;
        g_autofree char *vm = f->vm_id ? like_pattern(f->vm_id, TRUE, TRUE) : NULL;
        g_autofree char *object = f->object ? like_pattern(f->object, TRUE, TRUE) : NULL;
        g_autofree char *action = NULL;
        g_autoptr(Stmt) st = NULL;

        if (f->action && g_str_has_suffix(f->action, "*")) {
                g_autofree char *stem = g_strndup(f->action, strlen(f->action) - 1);
                action = like_pattern(stem, FALSE, TRUE);
                g_string_append(sql, " AND action LIKE :action ESCAPE '\\'");
        } else if (f->action) {
                action = g_strdup(f->action);
                g_string_append(sql, " AND action = :action");
        }
        /* the subject's index; rows from before migration 6 (no subject) by their object */
        if (host)
                g_string_append(sql, " AND (subject = :host_id OR (subject IS NULL AND "
                                     "object LIKE :host ESCAPE '\\'))");
        if (vm)
                g_string_append(sql, " AND (subject = :vm_id OR (subject IS NULL AND "
                                     "object LIKE :vm ESCAPE '\\'))");
        if (object)
                g_string_append(sql, " AND object LIKE :object ESCAPE '\\'");
        g_string_append(sql, f->newest ? " ORDER BY id DESC LIMIT :limit" : " ORDER BY id LIMIT :limit");
        st = sq_prepare(s, sql->str, error);
        if (!st)
                return NULL;
        sq_bind_named_int64(st, ":since", f->since);
        sq_bind_named_text(st, ":action", action);
        sq_bind_named_text(st, ":host", host);
        sq_bind_named_text(st, ":vm", vm);
        {
                g_autofree char *h = f->host_id ? g_ascii_strdown(f->host_id, -1) : NULL;
                g_autofree char *v = f->vm_id ? g_ascii_strdown(f->vm_id, -1) : NULL;
                sq_bind_named_text(st, ":host_id", h);
                sq_bind_named_text(st, ":vm_id", v);
        }
        sq_bind_named_text(st, ":object", object);
        sq_bind_named_int64(st, ":limit", f->limit);
        {
                GPtrArray *rows = sq_event_rows(s, st, error);
                /* newest first from the index, answered oldest first as always */
                for (guint i = 0; rows && f->newest && i < rows->len / 2; i++) {
                        gpointer t = rows->pdata[i];
                        rows->pdata[i] = rows->pdata[rows->len - 1 - i];
                        rows->pdata[rows->len - 1 - i] = t;
                }
                return rows;
        }
}

/* Every column of the one row @sql answers, as text joined by '\n' onto @parts. */
static gboolean row_parts(HdStore *s, const char *sql, const char *host_id, GString *parts,
                          GError **error)
{
        g_autoptr(Stmt) st = sq_prepare(s, sql, error);
        int rc;

        if (!st)
                return FALSE;
        if (host_id)
                sq_bind_text(st, 1, host_id);
        rc = hd_db_step(st);
        if (rc == HD_DB_DONE && host_id)
                return sq_not_found(error, "host", host_id);
        if (rc != HD_DB_ROW)
                return sq_db_fail(s, error, "etag");
        for (int i = 0; i < hd_db_column_count(st); i++) {
                const char *t = hd_db_column_text(st, i);
                g_string_append_printf(parts, "%s\n", t ? t : "-");
        }
        return TRUE;
}

/* Every row of @sql (its ?1 bound to @host_id) into @parts, each value with its length (a
 * value may hold a line end), then the number of rows; none is no error. An aggregate of the
 * rows in SQL would need group_concat (SQLite) or string_agg (PostgreSQL, and SQLite only
 * from 3.44): there is no common one. */
static gboolean rows_parts(HdStore *s, const char *sql, const char *host_id, GString *parts,
                           GError **error)
{
        g_autoptr(Stmt) st = sq_prepare(s, sql, error);
        guint rows = 0;
        int rc;

        if (!st)
                return FALSE;
        sq_bind_text(st, 1, host_id);
        while ((rc = hd_db_step(st)) == HD_DB_ROW) {
                for (int i = 0; i < hd_db_column_count(st); i++) {
                        const char *t = hd_db_column_text(st, i);
                        if (t)
                                g_string_append_printf(parts, "%zu:%s\n", strlen(t), t);
                        else
                                g_string_append(parts, "-\n");
                }
                rows++;
        }
        if (rc != HD_DB_DONE)
                return sq_db_fail(s, error, "etag");
        g_string_append_printf(parts, "%u rows\n", rows);
        return TRUE;
}

char *hd_store_etag(HdStore *s, HdEtagScope scope, const char *host_id, GError **error)
{
        static const char *const names[] = {"hosts", "inventory", "events", "vms", "mdev"};
        static const char hosts_sql[] = "SELECT COUNT(*), MAX(updated_at) FROM hosts";
        g_autoptr(GString) parts = g_string_new(names[scope]);
        g_autofree char *sum = NULL;
        gboolean ok = FALSE;

        g_string_append_c(parts, '\n');
        switch (scope) {
        case HD_ETAG_HOSTS:
                ok = row_parts(s, hosts_sql, NULL, parts, error);
                break;
        case HD_ETAG_INVENTORY:
                ok = row_parts(s,
                               "SELECT id, updated_at, devices_etag, groups_etag, device_count, "
                               "group_count FROM hosts WHERE id = ?",
                               host_id, parts, error);
                break;
        case HD_ETAG_EVENTS:
                /* two subqueries: each is one step down the primary key, where MIN and MAX
                 * in one SELECT scan the table */
                ok = row_parts(s,
                               "SELECT (SELECT MIN(id) FROM events), (SELECT MAX(id) FROM events)",
                               NULL, parts, error);
                break;
        case HD_ETAG_MDEV:
                ok = row_parts(s, "SELECT id, updated_at, mdev_etag FROM hosts WHERE id = ?",
                               host_id, parts, error) &&
                     /* the leftovers shown with the types (api-hosts.c) */
                     rows_parts(s,
                                "SELECT uuid, last_error FROM host_mdev_leftovers WHERE "
                                "host_id = ? ORDER BY uuid",
                                host_id, parts, error);
                break;
        case HD_ETAG_VMS:
                ok =
                    row_parts(s, "SELECT COUNT(*), MAX(updated_at) FROM vms", NULL, parts, error) &&
                    row_parts(s, hosts_sql, NULL, parts, error);
                break;
        }
        if (!ok)
                return NULL;
        sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, parts->str, (gssize)parts->len);
        return g_strdup_printf("\"%.32s\"", sum);
}
