/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The bootloader that will boot this host next, found from the files it leaves, and the one
 * place where its kernel command line is configured:
 *
 *   proxmox       etc/kernel/proxmox-boot-uuids: proxmox-boot-tool manages the ESPs;
 *                 etc/kernel/cmdline (systemd-boot) or GRUB_CMDLINE_LINUX in etc/default/grub,
 *                 then `proxmox-boot-tool refresh`
 *   grubby        BLS entries (boot/loader/entries/NAME.conf) on a Fedora/RHEL family system or
 *                 with grubby installed: the `options` line of every entry (the default entry
 *                 is what runs next), then
 *                 `grubby --update-kernel=ALL --args=... --remove-args=...`
 *   systemd-boot  etc/kernel/cmdline (kernel-install), then `kernel-install add REL IMAGE`
 *   grub          GRUB_CMDLINE_LINUX (and _DEFAULT) in etc/default/grub, then update-grub
 *                 (Debian/Ubuntu) or grub-mkconfig / grub2-mkconfig
 *
 * Editing changes only the bytes of the command line value: the rest of the file stays
 * identical, words are appended with one space and removed with the space before them, and
 * the value keeps its quoting. A value the parser does not fully understand (a shell
 * variable, command substitution, an unterminated quote) makes the whole config unparseable,
 * and it is left untouched.
 *
 * Backups: the admin's own configuration is never lost. The first time hostdev changes a
 * file it copies it to FILE.hostdev-backup, and that copy is never replaced or removed.
 * Every later change first copies the file as it is then to FILE.hostdev-backup.STAMP
 * (STAMP: UTC, YYYYMMDDTHHMMSSZ, with -N when two changes share a second); the newest
 * HD_BOOTLOADER_BACKUPS_KEPT of those stay, older ones are removed (never the first).
 * A file hostdev creates (etc/kernel/cmdline) has nothing to back up.
 *
 * The update command's outcome is kept (exit status, the tail of its output); when it fails
 * every edited file is put back as it was (a file hostdev created is removed) and apply
 * fails, naming the command, its status and its last lines.
 */
#pragma once

#include <glib.h>

#include "ctx.h"

typedef enum {
        HD_BOOTLOADER_UNKNOWN,
        HD_BOOTLOADER_GRUB,
        HD_BOOTLOADER_GRUBBY,
        HD_BOOTLOADER_SYSTEMD_BOOT,
        HD_BOOTLOADER_PROXMOX,
} HdBootloaderKind;

/* "unknown", "grub", "grubby", "systemd-boot", "proxmox" */
const char *hd_bootloader_kind_to_string(HdBootloaderKind kind);

/* One change to a command line. */
typedef enum {
        HD_ARG_EDIT_ADD,     /* append new_arg */
        HD_ARG_EDIT_REMOVE,  /* drop old_arg */
        HD_ARG_EDIT_REPLACE, /* put new_arg where old_arg is */
} HdArgEditOp;

typedef struct {
        HdArgEditOp op;
        char *old_arg;
        char *new_arg;
        gboolean by_hostdev; /* an argument hostdev adds on request (remembered) */
} HdArgEdit;

HdArgEdit *hd_arg_edit_new(HdArgEditOp op, const char *old_arg, const char *new_arg);
void hd_arg_edit_free(HdArgEdit *edit);

/* Apply @edits to a word list in place (the model of what the files will say). */
void hd_arg_edits_apply_words(GPtrArray *words, const GPtrArray *edits);

typedef struct HdBootloader HdBootloader;

/* The three file formats that hold a command line. */
typedef enum {
        HD_BOOTLOADER_FILE_GRUB_DEFAULT,   /* etc/default/grub: shell assignments */
        HD_BOOTLOADER_FILE_KERNEL_CMDLINE, /* etc/kernel/cmdline: raw text */
        HD_BOOTLOADER_FILE_BLS_ENTRY,      /* boot/loader/entries/NAME.conf: the options line */
} HdBootloaderFile;

/* The parser and editor on text, without a tree (tests and the fuzzer): parse @text as a
 * file of @format, return the command line words it configures in @words, and, when @edits
 * is not NULL, the file's text after the edits in @edited. Fails as hd_bootloader_detect()
 * does on a file it will not rewrite. */
gboolean hd_bootloader_edit_text(HdBootloaderFile format, const char *text,
                                 const GPtrArray *edits, GPtrArray **words, char **edited,
                                 GError **error);

/* Detect the bootloader below the root and parse its config. UNKNOWN is not an error (the
 * configured command line is then empty); an unparseable config is (HD_ERROR_FAILED, naming
 * the file and the line). */
HdBootloader *hd_bootloader_detect(HdCtx *ctx, GError **error);
void hd_bootloader_free(HdBootloader *bl);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdBootloader, hd_bootloader_free)

HdBootloaderKind hd_bootloader_get_kind(const HdBootloader *bl);
/* The file that holds the command line, below the root ("etc/default/grub"), or NULL. */
const char *hd_bootloader_get_config_path(const HdBootloader *bl);
/* The words the bootloader will boot with next (borrowed). */
const GPtrArray *hd_bootloader_get_cmdline(const HdBootloader *bl);
/* char* messages about config hostdev reads but does not edit (borrowed, may be empty). */
const GPtrArray *hd_bootloader_get_warnings(const HdBootloader *bl);

#define HD_BOOTLOADER_BACKUPS_KEPT 10
#define HD_BOOTLOADER_BACKUP_SUFFIX ".hostdev-backup"

/* One file an apply changes. */
typedef struct {
        char *path;         /* below the root */
        gboolean create;    /* it does not exist yet ("create"), else "replace" */
        char *diff;         /* unified diff of the change (--- a/PATH +++ b/PATH, or /dev/null) */
        char *backup;       /* after apply: the copy of the previous content it wrote (a dry
                             * run: would write), below the root (FILE.hostdev-backup the first
                             * time, then a STAMP one); NULL before apply and for create */
        char *first_backup; /* FILE.hostdev-backup: the admin's original, kept forever */
} HdBootloaderChange;

void hd_bootloader_change_free(HdBootloaderChange *change);

/* What the update command did. */
typedef struct {
        char **argv;        /* the command */
        gboolean ran;       /* it was run (FALSE in a dry run or when a file write failed) */
        int exit_status;    /* -1: it did not start or was killed */
        char *output_tail;  /* its last lines (stdout, then stderr), at most ~2 KiB */
        gboolean succeeded; /* ran and exited 0 */
} HdBootloaderUpdate;

/* The files @edits would change, with their diffs (HdBootloaderChange*); empty when none.
 * Nothing is written. */
GPtrArray *hd_bootloader_preview(HdBootloader *bl, const GPtrArray *edits);

/* Edit the config files (backups as above, atomic replace, all through hd_ctx_replace_file),
 * run the update command through hd_ctx_run_full(), and put every file back when the command
 * fails. */
gboolean hd_bootloader_apply(HdBootloader *bl, HdCtx *ctx, const GPtrArray *edits, GError **error);

/* After hd_bootloader_apply(): the files it changed (HdBootloaderChange*, with backups) and
 * what the update command did (NULL when it was not reached). Borrowed. */
const GPtrArray *hd_bootloader_get_changes(const HdBootloader *bl);
const HdBootloaderUpdate *hd_bootloader_get_update(const HdBootloader *bl);
