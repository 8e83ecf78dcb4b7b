#!/usr/bin/env python3
"""gen-docs -- man pages and shell completion from the programs' own --help.

One source: the option tables the programs parse (GOption) print their --help, and this script
turns that text into hostdev(8), hostdevd(8), hostdevd.conf(5) (from the commented example
configuration) and bash and zsh completion, so documentation and completion cannot drift from
the code. Run by meson at build time (the built binaries are run with --help only):

  gen-docs.py man-hostdev HOSTDEV VERSION OUT
  gen-docs.py man-hostdevd HOSTDEVD VERSION OUT
  gen-docs.py man-engine HOSTDEV_ENGINE VERSION OUT
  gen-docs.py man-conf CONF VERSION OUT
  gen-docs.py bash HOSTDEV OUT
  gen-docs.py zsh HOSTDEV OUT
"""
import re
import subprocess
import sys

DATE = "2026"  # reproducible builds: no build date in the page


def run_help(*argv):
    env = {"LC_ALL": "C.UTF-8", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(list(argv), capture_output=True, text=True, env=env, timeout=60)
    if out.returncode != 0:
        sys.exit("%s exited %d: %s" % (" ".join(argv), out.returncode, out.stderr))
    return out.stdout


def parse_commands(main_help):
    """[(name, summary)] from the 'Commands:' block of `hostdev --help`."""
    cmds = []
    block = main_help.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    for line in block.splitlines():
        m = re.match(r"  (\S+)\s+(.*)", line)
        if m:
            cmds.append((m.group(1), m.group(2).strip()))
    return cmds


def parse_command_help(text):
    """usage line, summary, options [(switches, arg, text)], example lines, for one command."""
    lines = text.splitlines()
    usage = lines[1].strip() if len(lines) > 1 else ""
    summary = []
    for l in lines[2:]:
        if l.endswith(":") and not l.startswith(" "):
            break
        if l.strip():
            summary.append(l.strip())
    summary = "\n".join(summary)
    opts = []
    section = None
    example = []
    for l in lines:
        if l.endswith(":") and not l.startswith(" "):
            section = l[:-1]
            continue
        if section in ("Application Options", "Options of every command") and l.startswith("  -"):
            m = re.match(r"  ((?:-\w, )?--[\w-]+)(?:=(\S+))?\s+(.*)", l)
            if m:
                opts.append((m.group(1), m.group(2), m.group(3).strip(), section))
        if section in ("Example", "Examples") and l.startswith("  "):
            example.append(l.rstrip()[2:])
    return usage, summary, opts, example


def esc(text):
    """troff escaping of running text; characters beyond ASCII as \\[uXXXX]."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    text = "".join(c if ord(c) < 128 else "\\[u%04X]" % ord(c) for c in text)
    text = re.sub(r"^([.'])", r"\\&\1", text, flags=re.M)
    return text.replace("\n", "\n.br\n")


def th(name, section, version, title):
    return ('.TH %s %s "%s" "hostdev %s" "%s"\n' % (name.upper(), section, DATE, version, title))


def option_items(opts):
    out = []
    for switches, arg, text, _ in opts:
        sw = ", ".join("\\fB%s\\fR" % esc(s) for s in switches.split(", "))
        if arg:
            sw += "=\\fI%s\\fR" % esc(arg)
        out.append(".TP\n%s\n%s\n" % (sw, esc(text)))
    return "".join(out)


def man_hostdev(hostdev, version, out):
    main = run_help(hostdev, "--help")
    cmds = [c for c in parse_commands(main) if c[0] != "help"]
    page = [th("hostdev", 8, version, "System Administration"),
            ".SH NAME\nhostdev \\- PCI device passthrough for KVM hosts\n",
            ".SH SYNOPSIS\n\\fBhostdev\\fR [\\fB\\-\\-root\\fR \\fIDIR\\fR] "
            "[\\fB\\-\\-backend\\fR \\fIKIND\\fR] \\fICOMMAND\\fR [\\fIOPTIONS\\fR...]\n",
            ".SH DESCRIPTION\n%s\n.PP\n%s\n" % (
                esc("hostdev takes PCI devices from a host and gives them to virtual machines, "
                    "safely: it checks what the host needs, moves whole IOMMU groups as one "
                    "transaction with rollback, and says in words what to do next."),
                esc("Devices are named as people paste them: 0000:01:00.0, 01:00.0, 1:0.0, "
                    "libvirt's pci_0000_01_00_0, a slot (01:00: every function, where several "
                    "devices are taken) or vendor:device ids (10de:1b80, which must name one "
                    "device)."))]
    common = None
    page.append(".SH COMMANDS\n")
    for name, summary in cmds:
        usage, long_summary, own, example = parse_command_help(run_help(hostdev, name, "--help"))
        if common is None:
            common = parse_command_help(run_help(hostdev, name, "--help-common"))[2]
        page.append(".SS %s\n" % esc(name))
        page.append(".B %s\n.PP\n%s\n" % (esc(usage), esc(long_summary or summary)))
        if own:
            page.append(option_items(own))
        if example:
            page.append(".PP\nExample:\n.RS\n.nf\n%s\n.fi\n.RE\n" % esc("\n".join(example)))
    page.append(".SH OPTIONS OF EVERY COMMAND\n" + option_items(common or []))
    page.append(".SH EXIT STATUS\n0 ok, 1 refused or not found, 2 bad usage.\n")
    page.append(".SH FILES\n.TP\n\\fI/etc/hostdev/persist.d/\\fR\nboot-time bindings "
                "(\\fBhostdev persist\\fR)\n.TP\n\\fI/var/lib/hostdev/journal/\\fR\nthe journal "
                "of detach and attach transactions (\\fBhostdev recover\\fR)\n")
    page.append(".SH SEE ALSO\n\\fBhostdevd\\fR(8), \\fBhostdevd.conf\\fR(5), "
                "\\fBvirsh\\fR(1), \\fBlspci\\fR(8), \\fBdriverctl\\fR(8)\n")
    write(out, "".join(page))


def man_hostdevd(hostdevd, version, out):
    usage, summary, opts, example = parse_command_help(run_help(hostdevd, "--help"))
    page = [th("hostdevd", 8, version, "System Administration"),
            ".SH NAME\nhostdevd \\- the hostdev host agent\n",
            ".SH SYNOPSIS\n.B %s\n" % esc(usage),
            ".SH DESCRIPTION\n%s\n.PP\n%s\n" % (
                esc(summary),
                esc("The API is documented in OpenAPI 3 (openapi.yaml, installed with the "
                    "documentation). Options given on the command line win over the "
                    "configuration file.")),
            ".SH OPTIONS\n" + option_items(opts)]
    if example:
        page.append(".SH EXAMPLE\n.nf\n%s\n.fi\n" % esc("\n".join(example)))
    page.append(".SH DEVICE CHANGES\n%s\n" % esc(
        "The inventory's generation moves when a device appears, goes or changes driver. On "
        "the live root the agent hears it from udevd when udevd runs (/run/udev/control "
        "exists) and the agent has libgudev, otherwise straight from the kernel's uevents "
        "(a container, an initramfs, a host without udevd); under --root, through inotify on "
        "the tree. The start log line \"watching device changes\" names the source."))
    page.append(".SH FILES\n.TP\n\\fI/etc/hostdev/hostdevd.conf\\fR\nthe configuration "
                "(\\fBhostdevd.conf\\fR(5))\n.TP\n\\fI/var/lib/hostdev/agent.token\\fR\nthe "
                "bearer token, created mode 0600 at first start\n")
    page.append(".SH SEE ALSO\n\\fBhostdev\\fR(8), \\fBhostdevd.conf\\fR(5)\n")
    write(out, "".join(page))


def man_engine(engine, version, out):
    """hostdev-engine(8): the server's options, the token commands, and the client's commands
    (each from its own --help)."""
    main = run_help(engine, "--help")
    usage, summary, opts, _ = parse_command_help(main)
    page = [th("hostdev-engine", 8, version, "System Administration"),
            ".SH NAME\nhostdev-engine \\- the hostdev fleet manager, and its command line client\n",
            ".SH SYNOPSIS\n\\fBhostdev-engine\\fR [\\fIOPTIONS\\fR]\n.br\n"
            "\\fBhostdev-engine token\\fR create \\fINAME\\fR \\-\\-role admin|viewer | list | "
            "revoke \\fINAME\\fR\n.br\n"
            "\\fBhostdev-engine\\fR [\\fB\\-\\-url\\fR \\fIURL\\fR] "
            "[\\fB\\-\\-token\\-file\\fR \\fIFILE\\fR] [\\fB\\-\\-json\\fR] "
            "hosts|vms|events \\fICOMMAND\\fR [\\fIOPTIONS\\fR...]\n",
            ".SH DESCRIPTION\n%s\n" % esc(
                "Without a command, hostdev-engine is the fleet manager: it keeps every host's "
                "readiness, kernel arguments, devices and IOMMU groups in its database through "
                "the hosts' hostdevd agents, gives VMs host devices (pinned to their host, the rest "
                "of each IOMMU group reserved as placeholders), walks hosts through maintenance, "
                "reboot and activation, serves its API (engine-openapi.yaml) and the admin "
                "portal. token manages the API's tokens in the database. hosts, vms and events "
                "are the admin's client of a running engine."),
            ".SH OPTIONS\n" + option_items(opts)]
    for group in ("hosts", "vms", "events"):
        ghelp = run_help(engine, group, "--help")
        page.append(".SH %s\n" % esc(group.upper()))
        if "Commands:\n" not in ghelp:
            usage, summary, gopts, example = parse_command_help(ghelp)
            page.append(".B %s\n.PP\n%s\n" % (esc(usage), esc(summary)))
            page.append(option_items(gopts))
            if example:
                page.append(".PP\nExample:\n.RS\n.nf\n%s\n.fi\n.RE\n" % esc("\n".join(example)))
            continue
        for name, _ in parse_commands(ghelp):
            usage, summary, copts, example = parse_command_help(
                run_help(engine, group, name, "--help"))
            page.append(".SS %s %s\n" % (esc(group), esc(name)))
            page.append(".B %s\n.PP\n%s\n" % (esc(usage), esc(summary)))
            page.append(option_items(copts))
            if example:
                page.append(".PP\nExample:\n.RS\n.nf\n%s\n.fi\n.RE\n" % esc("\n".join(example)))
    page.append(".SH EXIT STATUS\nThe client: 0 ok, 1 failed, 2 bad usage, 3 refused, 4 not found, "
                "5 engine unreachable, 6 unauthorized.\n")
    page.append(".SH ENVIRONMENT\n.TP\n\\fBHOSTDEV_ENGINE_TOKEN\\fR\nthe client's token "
                "(or \\fB\\-\\-token\\-file\\fR; never an argument)\n")
    page.append(".SH FILES\n.TP\n\\fI/etc/hostdev/hostdev\\-engine.conf\\fR\nthe "
                "configuration\n.TP\n\\fI/var/lib/hostdev\\-engine/engine.db\\fR\nthe database "
                "(mode 0600)\n")
    page.append(".SH SEE ALSO\n\\fBhostdevd\\fR(8), \\fBhostdev\\fR(8)\n")
    write(out, "".join(page))


def man_conf(conf, version, out):
    """hostdevd.conf(5): each key of the commented example with the comment above it."""
    text = open(conf, encoding="utf-8").read()
    intro = []
    entries = []
    comment = []
    section = None
    for line in text.splitlines():
        if line.startswith("#"):
            comment.append(line.lstrip("#").strip())
        elif line.startswith("["):
            section = line.strip()
            if not entries:
                intro += comment
            comment = []
        elif "=" in line and section:
            key, value = line.split("=", 1)
            entries.append((section, key.strip(), value.strip(), " ".join(c for c in comment if c)))
            comment = []
        elif not line.strip():
            if section is None and comment:
                intro += comment
                comment = []
    page = [th("hostdevd.conf", 5, version, "File Formats"),
            ".SH NAME\nhostdevd.conf \\- configuration of the hostdev host agent\n",
            ".SH DESCRIPTION\n%s\n" % esc(" ".join(c for c in intro if c)),
            ".SH KEYS\n"]
    for section, key, value, comment in entries:
        page.append(".TP\n\\fB%s\\fR=\\fI%s\\fR (in %s)\n%s\n" % (esc(key), esc(value), esc(section),
                                                                 esc(comment)))
    page.append(".SH SEE ALSO\n\\fBhostdevd\\fR(8)\n")
    write(out, "".join(page))


def command_options(hostdev):
    cmds = [c for c, _ in parse_commands(run_help(hostdev, "--help"))]
    table = {}
    common = []
    for c in cmds:
        if c == "help":
            continue
        opts = parse_command_help(run_help(hostdev, c, "--help"))[2]
        if not common:
            opts += parse_command_help(run_help(hostdev, c, "--help-common"))[2]
        words = []
        for switches, arg, _, section in opts:
            for s in switches.split(", "):
                (common if section == "Options of every command" else words).append(s)
        table[c] = sorted(set(words))
    return cmds, table, sorted(set(common))


def bash(hostdev, out):
    cmds, table, common = command_options(hostdev)
    cases = "".join('        %s) opts="%s" ;;\n' % (c, " ".join(table[c])) for c in sorted(table))
    script = r'''# bash completion for hostdev (generated from its --help by scripts/gen-docs.py)
_hostdev_devices()
{
    local root=/ i
    for ((i = 1; i < ${#COMP_WORDS[@]}; i++)); do
        [[ ${COMP_WORDS[i]} == --root ]] && root=${COMP_WORDS[i+1]}
        [[ ${COMP_WORDS[i]} == --root=* ]] && root=${COMP_WORDS[i]#--root=}
    done
    local d
    for d in "$root"/sys/bus/pci/devices/*; do
        [[ -e $d ]] && printf '%s\n' "${d##*/}"
    done
}

_hostdev()
{
    local cur prev cmd i opts
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    cmd=
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
        --root|--backend) ((i++)) ;;
        -*) ;;
        *) cmd=${COMP_WORDS[i]}; break ;;
        esac
    done
    case $prev in
    --root|-d|--directory|-o|--output|--domain|--rom-file) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --backend) COMPREPLY=($(compgen -W "real sim auto" -- "$cur")); return ;;
    --class) COMPREPLY=($(compgen -W "gpu net storage usb audio bridge other" -- "$cur")); return ;;
    --machine) COMPREPLY=($(compgen -W "q35 pc" -- "$cur")); return ;;
    --rom-bar) COMPREPLY=($(compgen -W "on off" -- "$cur")); return ;;
    esac
    if [[ -z $cmd ]]; then
        COMPREPLY=($(compgen -W "CMDS --root --backend --help --version" -- "$cur"))
        return
    fi
    case $cmd in
CASES        *) opts= ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts COMMON --help" -- "$cur"))
        return
    fi
    case $cmd in
    help) COMPREPLY=($(compgen -W "CMDS" -- "$cur")) ;;
    persist) if [[ $prev == persist ]]; then COMPREPLY=($(compgen -W "list add remove" -- "$cur"));
             else COMPREPLY=($(compgen -W "$(_hostdev_devices)" -- "$cur")); fi ;;
    show|detach|attach|reattach|verify|reset|xml|qemu-args)
        COMPREPLY=($(compgen -W "$(_hostdev_devices)" -- "$cur")) ;;
    esac
}
complete -F _hostdev hostdev
'''
    script = script.replace("CMDS", " ".join(cmds)).replace("CASES", cases).replace(
        "COMMON", " ".join(common))
    write(out, script)


def zsh(hostdev, out):
    cmds, table, common = command_options(hostdev)
    main = run_help(hostdev, "--help")
    described = "\n".join("    '%s:%s'" % (c, s.replace("'", "'\\''").replace(":", "\\:"))
                          for c, s in parse_commands(main))
    cases = "".join("    (%s) opts=(%s) ;;\n" % (c, " ".join(table[c])) for c in sorted(table))
    script = r'''#compdef hostdev
# zsh completion for hostdev (generated from its --help by scripts/gen-docs.py)
_hostdev_devices() {
  local root=/ i
  for (( i = 2; i <= $#words; i++ )); do
    [[ ${words[i]} == --root ]] && root=${words[i+1]}
  done
  local -a devs
  devs=(${root}/sys/bus/pci/devices/*(N:t))
  compadd -a devs
}

_hostdev() {
  local -a commands opts
  commands=(
DESCRIBED
  )
  local cmd i
  for (( i = 2; i < CURRENT; i++ )); do
    case ${words[i]} in
      --root|--backend) (( i++ )) ;;
      -*) ;;
      *) cmd=${words[i]}; break ;;
    esac
  done
  if [[ -z $cmd ]]; then
    _describe -t commands 'hostdev command' commands
    return
  fi
  case $cmd in
CASES    (*) opts=() ;;
  esac
  if [[ ${words[CURRENT]} == -* ]]; then
    compadd -- $opts COMMON --help
    return
  fi
  case $cmd in
    (help) _describe -t commands 'hostdev command' commands ;;
    (show|detach|attach|reattach|verify|reset|xml|qemu-args|persist) _hostdev_devices ;;
  esac
}

_hostdev "$@"
'''
    script = script.replace("DESCRIBED", described).replace("CASES", cases).replace(
        "COMMON", " ".join(common))
    write(out, script)


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    kind = sys.argv[1]
    if kind == "man-hostdev":
        man_hostdev(sys.argv[2], sys.argv[3], sys.argv[4])
    elif kind == "man-hostdevd":
        man_hostdevd(sys.argv[2], sys.argv[3], sys.argv[4])
    elif kind == "man-engine":
        man_engine(sys.argv[2], sys.argv[3], sys.argv[4])
    elif kind == "man-conf":
        man_conf(sys.argv[2], sys.argv[3], sys.argv[4])
    elif kind == "bash":
        bash(sys.argv[2], sys.argv[3])
    elif kind == "zsh":
        zsh(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
