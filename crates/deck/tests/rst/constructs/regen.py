#!/usr/bin/env python3
"""Rebuilds expected/*.html: each construct fixture as Sphinx 6.2 + docutils 0.19 render it.

    /tmp/hg/bin/python tests/rst/constructs/regen.py     # from crates/deck (see
                                                         # tests/corpus/regen.py for the venv)

Only the document body is kept (the theme's page around it is not ours to match);
the test compares structure and text, not bytes.
"""
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
CONF = """
extensions = ['sphinx.ext.doctest']
master_doc = 'other'
project = 'constructs'
html_theme = 'basic'
def setup(app):
    app.add_object_type('confval', 'confval', objname='configuration value')
"""


def main():
    python = sys.argv[1] if len(sys.argv) > 1 else sys.executable
    out = HERE / 'expected'
    out.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        proj = pathlib.Path(tmp)
        for f in HERE.iterdir():
            if f.is_file() and f.suffix in ('.rst', '.txt', '.py') and f.name != 'regen.py':
                shutil.copy(f, proj / f.name)
        (proj / 'conf.py').write_text(CONF)
        subprocess.run([python, '-m', 'sphinx', '-b', 'html', '-E', '-q', str(proj),
                        str(proj / '_build')], check=True)
        for rst in sorted(HERE.glob('*.rst')):
            page = (proj / '_build' / f'{rst.stem}.html').read_text()
            m = re.search(r'<div class="body" role="main">(.*?)<div class="clearer">', page, re.S)
            body = m.group(1) if m else page
            body = re.sub(r'<a class="headerlink"[^>]*>.*?</a>', '', body)
            (out / f'{rst.stem}.html').write_text(body.strip() + '\n')
            print(rst.stem)


if __name__ == '__main__':
    main()
