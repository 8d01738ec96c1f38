#!/usr/bin/env python3
"""Rebuilds expected/*.json: each corpus talk's slide titles as hieroglyph makes them.

Needs hieroglyph 2.1 with the Sphinx and docutils it works with (it crashes on Sphinx 7.2+):

    python3 -m venv /tmp/hg
    /tmp/hg/bin/pip install 'hieroglyph==2.1.0' 'sphinx==6.2.1' 'docutils==0.19'
    /tmp/hg/bin/python tests/corpus/regen.py        # from xtask/deck

Each talk is built in a scratch Sphinx project with `sphinx-build -b slides` and the
settings its author used (slide_levels 3, the single-level theme); hieroglyph's docs are
built together, as one project, because they refer to each other. A slide's title is
the text of the first heading in its <article>; "" for a slide without one.
"""
import html
import json
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
CONF = """
extensions = ['sphinx.ext.autodoc', 'sphinx.ext.doctest', 'sphinx.ext.graphviz', 'sphinx.ext.todo',
              'sphinx.ext.ifconfig', 'hieroglyph']
master_doc = 'index'
project = 'corpus'
exclude_patterns = ['_build']
slide_theme = 'single-level'
slide_levels = 3
def setup(app):
    app.add_object_type('confval', 'confval', objname='configuration value')
"""


def titles(page):
    out = []
    for article in re.split(r'<article\b', page)[1:]:
        m = re.search(r'<h([1-6])[^>]*>(.*?)</h\1>', article, re.S)
        text = '' if m is None else re.sub(r'<[^>]+>', '', m.group(2))
        text = re.sub(r'\s+', ' ', html.unescape(text)).replace('\u00b6', '').strip()
        out.append(text)
    return out


def build(src_dir, docs, python):
    with tempfile.TemporaryDirectory() as tmp:
        proj = pathlib.Path(tmp)
        shutil.copytree(src_dir, proj, dirs_exist_ok=True)
        (proj / 'conf.py').write_text(CONF)
        results = {}
        for doc in docs:
            if len(docs) > 1:
                continue
            shutil.copy(src_dir / f'{doc}.rst', proj / 'index.rst')
        run = subprocess.run(
            [python, '-m', 'sphinx', '-b', 'slides', '-E', '-q', str(proj), str(proj / '_build')],
            capture_output=True, text=True)
        for doc in docs:
            page_name = 'index' if len(docs) == 1 else doc
            page = (proj / '_build' / f'{page_name}.html').read_text()
            key = f'{proj}/{page_name}.rst:'
            warnings = [l for l in run.stderr.splitlines()
                        if ('WARNING' in l or 'ERROR' in l) and (key in l or len(docs) == 1)]
            results[doc] = {'slides': titles(page), 'warnings': warnings_text(warnings, proj)}
        return results


def warnings_text(lines, proj):
    return [l.replace(str(proj) + '/', '') for l in lines]


def main():
    python = sys.argv[1] if len(sys.argv) > 1 else sys.executable
    expected = HERE / 'expected'
    expected.mkdir(exist_ok=True)
    for rst in sorted((HERE / 'edunham').glob('*.rst')):
        res = build_single(rst, python)
        write(expected / f'edunham-{rst.stem}.json', res)
    docs = sorted(str(p.relative_to(HERE / 'hieroglyph'))[:-4]
                  for p in (HERE / 'hieroglyph').rglob('*.rst'))
    for doc, res in build(HERE / 'hieroglyph', docs, python).items():
        write(expected / f"hieroglyph-{doc.replace('/', '-')}.json", res)


def build_single(rst, python):
    with tempfile.TemporaryDirectory() as tmp:
        src = pathlib.Path(tmp) / 'src'
        src.mkdir()
        shutil.copy(rst, src / 'index.rst')
        return build(src, ['index'], python)['index']


def write(path, res):
    path.write_text(json.dumps(res, indent=1, ensure_ascii=False) + '\n')
    print(f"{path.name}: {len(res['slides'])} slides, {len(res['warnings'])} warnings")


if __name__ == '__main__':
    main()
