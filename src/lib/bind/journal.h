/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The bind journal: what a detach or attach is about to do, written down before it does it,
 * so that a failure or a crash can always be undone.
 *
 * One transaction is one file, var/lib/hostdev/journal/<id> below the root (a GKeyFile, written
 * atomically with fsync of the file and its directory). It holds:
 *   - the operation (detach or attach) and its state: "writing" from before the first write,
 *     "committing" once every write is done and verified, "rolling-back" while undoing;
 *   - every device touched, with its original driver and original driver_override (the
 *     state to return to) and the driver it is moving to;
 *   - the planned steps (path, value) with a done mark set after each completed write.
 *
 * The life of one journal file:
 *
 *     (none) --begin--> writing --all writes done and verified--> committing --origins--> (removed)
 *                          |
 *                          +--a failure, or recovery after a crash--> rolling-back --every
 *                                                                     device restored--> (removed)
 *
 *   Recovery finds a file in one of three states: "writing" and "rolling-back" are rolled back
 *   (again: every step checks first), "committing" is finished forward (only bookkeeping is
 *   left). A file whose devices could not all be restored stays for the next recovery.
 *
 * Invariants:
 *   J1  the journal file exists before the first side effect of a transaction and is removed
 *       only after the last (commit or completed rollback);
 *   J2  a device named in a journal is, at any moment, recoverable from what the journal says:
 *       its original driver and override are recorded before they are changed;
 *   J3  recovery is driven by the devices' actual state, not by the done marks: a crash can
 *       happen between a write and its mark, so the marks are a record for humans, and every
 *       recovery step is idempotent (it checks before it writes);
 *   J4  recovery rolls back. A transaction is completed forward only when its state is
 *       "committing" (every write done and verified: finishing is only bookkeeping). Anything
 *       else returns every device to its original driver and override: the command that
 *       started it did not report success, so the host must look as if it never ran, and the
 *       user can run it again. Rolling back always has a known good target (the state the
 *       host was in), which rolling forward does not (the probe that failed may fail again);
 *       so no device ever ends without a driver it had before;
 *   J5  a journal is read like any input: at most HD_JOURNAL_MAX_BYTES, every count bounded by
 *       a maximum and by the groups the file holds, every address and driver name checked.
 *       Whatever breaks that (and anything in the directory that is not a regular file) is
 *       not a journal: it is moved into journal/quarantine/ with a warning, never deleted,
 *       and never read again. An origins file that cannot be read or parsed is likewise moved
 *       into var/lib/hostdev/quarantine/ instead of being overwritten;
 *   J6  a journal that cannot be recovered now (a device that will not go back) blocks only
 *       the IOMMU groups it names: detach and attach of those groups fail with
 *       HD_ERROR_BUSY naming the journal and `hostdev recover`; every other group goes on.
 *
 * The journal also keeps the origin of every device it moved to vfio-pci
 * (var/lib/hostdev/origins): `attach` returns a device to the driver it had before the detach,
 * not to whatever the kernel would pick now.
 */
#pragma once

#include <glib.h>

#include "ctx.h"

/* Bounds on what a journal file may claim (J5). */
#define HD_JOURNAL_MAX_BYTES (1 << 20)
#define HD_JOURNAL_MAX_DEVICES 1024
#define HD_JOURNAL_MAX_STEPS (8 * HD_JOURNAL_MAX_DEVICES)

typedef enum {
        HD_TX_DETACH,
        HD_TX_ATTACH,
        HD_TX_SRIOV, /* "sriov": a PF's VF count and autoprobe (sriov.h); rolled back by
                      * writing them back (0 then the old count), bounded like the forward
                      * writes; its one device is the PF */
} HdTxKind;

const char *hd_tx_kind_to_string(HdTxKind kind);

typedef struct {
        char *name;              /* canonical address */
        int group;               /* IOMMU group, -1 none */
        char *original_driver;   /* NULL: none */
        char *original_override; /* NULL: none */
        char *target_driver;     /* NULL: the kernel's choice */
} HdJournalDevice;

typedef struct {
        char *path;
        char *value;
        gboolean done;
} HdJournalStep;

typedef struct {
        HdCtx *ctx;
        char *id;
        char *file;            /* below the root */
        HdTxKind kind;
        char *state;           /* "writing", "committing", "rolling-back" */
        GPtrArray *devices;    /* HdJournalDevice* */
        GPtrArray *steps;      /* HdJournalStep* */
        /* HD_TX_SRIOV: what the PF (devices[0]) had before */
        int sriov_numvfs;      /* VFs enabled */
        int sriov_autoprobe;   /* sriov_drivers_autoprobe 0/1, -1 when the kernel has none */
} HdJournal;

/* How long one write of a VF count may wait for the kernel (sriov.h S2). */
#define HD_SRIOV_WRITE_TIMEOUT_MS 60000

/* Return @pf to @numvfs VFs and @autoprobe (-1: leave): the SR-IOV rollback primitive,
 * idempotent (reads before it writes), each count write bounded by @timeout_ms. */
gboolean hd_journal_restore_sriov(HdCtx *ctx, const char *pf, int numvfs, int autoprobe,
                                  guint timeout_ms, GError **error);

/* A new, unsaved transaction. */
HdJournal *hd_journal_new(HdCtx *ctx, HdTxKind kind);
void hd_journal_free(HdJournal *j);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdJournal, hd_journal_free)

void hd_journal_add_device(HdJournal *j, const char *name, int group, const char *driver,
                           const char *override, const char *target);
void hd_journal_add_step(HdJournal *j, const char *path, const char *value);

/* Write the journal (state "writing"): call before the first side effect (J1). */
gboolean hd_journal_begin(HdJournal *j, GError **error);
/* Mark step @index done and save. */
gboolean hd_journal_step_done(HdJournal *j, guint index, GError **error);
/* Every write done and verified: save state "committing", then remove the file. */
gboolean hd_journal_commit(HdJournal *j, GError **error);
/* Return every device to its original driver and override, in reverse order, then remove
 * the file. Devices that cannot be restored are named in @error and the file stays for the
 * next recovery. */
gboolean hd_journal_rollback(HdJournal *j, GError **error);

/* Complete or roll back every interrupted transaction below the root (J4). Transactions whose
 * groups are locked by a live process are left alone (they are not interrupted). *n_recovered
 * gets the number handled. Run by every mutating command before it starts. */
gboolean hd_journal_recover(HdCtx *ctx, guint *n_recovered, GError **error);

/* hd_journal_recover() for a transaction about to change @groups (ints): a journal that cannot
 * be recovered now stops it only when it names one of @groups (HD_ERROR_BUSY naming the
 * journal and what to do); journals of other groups are logged and the transaction goes on
 * (J6). Run by detach and attach before they start. */
gboolean hd_journal_recover_for(HdCtx *ctx, GArray *groups, guint *n_recovered, GError **error);

/* What recovery would do with one file of the journal directory (hd_journal_list_pending). */
typedef enum {
        HD_PENDING_ROLL_BACK,   /* "roll-back": interrupted while writing or rolling back */
        HD_PENDING_FINISH,      /* "finish": interrupted while committing (bookkeeping left) */
        HD_PENDING_QUARANTINE,  /* "quarantine": not a journal (J5) */
        HD_PENDING_IN_PROGRESS, /* "in-progress": a live process holds its groups' locks */
} HdPendingAction;

const char *hd_pending_action_to_string(HdPendingAction action);

typedef struct {
        char *file;               /* below the root */
        HdPendingAction action;
        char *operation;          /* "detach", "attach"; NULL when not a journal */
        char *state;              /* "writing", ...; NULL when not a journal */
        char *why;                /* QUARANTINE: why it is not a journal */
        int pid;                  /* IN_PROGRESS: the process running it, else 0 */
        GArray *groups;           /* int: the IOMMU groups it names */
        GPtrArray *devices;       /* HdJournalDevice*: the devices and their original drivers */
} HdPendingOp;

void hd_pending_op_free(HdPendingOp *op);

/* Every file in the journal directory and what recovery would do with it, in name order.
 * Reads only: nothing is locked, quarantined or written (journal.h J5 still holds: a file
 * that is not a regular file is never opened). */
GPtrArray *hd_journal_list_pending(HdCtx *ctx);

/* Number of journal files present (for `hostdev recover --check` and tests). */
guint hd_journal_count_pending(HdCtx *ctx);

/* Origins: the driver and override a device had before hostdev moved it to vfio-pci. */
gboolean hd_journal_set_origin(HdCtx *ctx, const char *name, const char *driver,
                               const char *override, GError **error);
/* FALSE when no origin is recorded; *driver and *override may come back NULL. */
gboolean hd_journal_get_origin(HdCtx *ctx, const char *name, char **driver, char **override);
gboolean hd_journal_clear_origin(HdCtx *ctx, const char *name, GError **error);

/* Return one device to @driver and @override (the recovery primitive; idempotent). */
gboolean hd_journal_restore_device(HdCtx *ctx, const char *name, const char *driver,
                                   const char *override, GError **error);

/* Move the unparseable state file @dir/@name (below the root) into @dir/quarantine/, with a
 * warning in the log naming both paths and @why: a hostile or damaged file stops being read
 * and stops blocking, and is kept for a human (never deleted). FALSE when it could not be
 * moved (logged as well), and in a dry run, which only says it would. */
gboolean hd_quarantine_file(HdCtx *ctx, const char *dir, const char *name, const char *why);
