#!/usr/bin/env python3
# The portal's served tree: web/index.html and web/app/* as they are, and from the npm packages
# (web/node_modules, installed by scripts/install-deps from web/package-lock.json) only what the
# pages load: PatternFly's stylesheet and the fonts and images its url()s name. Nothing else of
# node_modules is served.
#
#   web/assemble.py SRCDIR OUTDIR [STAMP]
#   web/assemble.py SRCDIR --install DATADIR_RELATIVE   (meson install: under $MESON_INSTALL_DESTDIR_PREFIX)
import os
import re
import shutil
import sys

APP_EXT = ('.js', '.css', '.html', '.svg', '.ico', '.txt')


def copy(src, dst):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    # same size and mtime: left alone (keeps the ETags the engine derives from them)
    try:
        s, d = os.stat(src), os.stat(dst)
        if s.st_size == d.st_size and int(s.st_mtime) == int(d.st_mtime):
            return
    except FileNotFoundError:
        pass
    shutil.copy2(src, dst)


def main():
    src, out = sys.argv[1], sys.argv[2]
    stamp = sys.argv[3] if len(sys.argv) > 3 else None
    if out == '--install':
        out = os.path.join(os.environ['MESON_INSTALL_DESTDIR_PREFIX'], stamp)
        stamp = None
    wanted = {}
    wanted['index.html'] = os.path.join(src, 'index.html')
    for name in sorted(os.listdir(os.path.join(src, 'app'))):
        if name.endswith(APP_EXT):
            wanted['app/' + name] = os.path.join(src, 'app', name)
    pf = os.path.join(src, 'node_modules', '@patternfly', 'patternfly')
    css = os.path.join(pf, 'patternfly.min.css')
    text = ''
    if os.path.isfile(css):
        wanted['vendor/patternfly/patternfly.min.css'] = css
        with open(css, encoding='utf-8') as f:
            text = f.read()
    else:
        # the build goes on (the engine and its API need no npm); the portal is unstyled until
        # then, and the browser test (tests/ui) fails on the missing stylesheet
        print('web/assemble.py: warning: %s is missing: run scripts/install-deps (npm ci in web/)'
              % css, file=sys.stderr)
    for ref in sorted(set(re.findall(r'url\(\s*["\']?([^"\')]+)["\']?\s*\)', text))):
        if ref.startswith(('data:', '#')):
            continue
        rel = os.path.normpath(ref)
        if rel.startswith('..') or os.path.isabs(rel):
            sys.exit('web/assemble.py: PatternFly names %s, outside its package' % ref)
        path = os.path.join(pf, rel)
        if os.path.isfile(path):
            wanted['vendor/patternfly/' + rel] = path
    for rel, path in wanted.items():
        copy(path, os.path.join(out, rel))
    # files no longer wanted (renamed app files) go
    for root, dirs, files in os.walk(out):
        for name in files:
            rel = os.path.relpath(os.path.join(root, name), out)
            if rel not in wanted and rel != 'web.stamp':
                os.unlink(os.path.join(root, name))
    if stamp:
        with open(stamp, 'w') as f:
            f.write('%d files\n' % len(wanted))


if __name__ == '__main__':
    main()
