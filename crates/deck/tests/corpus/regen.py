#!/usr/bin/env python3
"""Rebuilds expected/*.json: each corpus talk's slides as hieroglyph makes them.

Needs hieroglyph 2.1 with the Sphinx and docutils it works with (it crashes on Sphinx 7.2+):

    python3 -m venv /tmp/hg
    /tmp/hg/bin/pip install 'hieroglyph==2.1.0' 'sphinx==6.2.1' 'docutils==0.19'
    /tmp/hg/bin/python tests/corpus/regen.py        # from crates/deck

Each talk is built in a scratch Sphinx project with `sphinx-build -b slides` and the
settings its author used (slide_levels 3, the single-level theme); hieroglyph's docs are
built together, as one project, because they refer to each other; our own documents
(`own/`) each alone, with the `slide_levels` their first line names
(`.. corpus: slide_levels = N`).

Per slide (each <article>):
- `title`: the text of its first heading ("" for a slide without one);
- `body`: the rest of its text, speaker notes (`.. note::`, the `admonition note` divs
  the presenter console copies) left out, and nothing of an image but nothing else;
- `steps`: how many elements hieroglyph's player reveals one by one (`.build > *`, as
  `slides.js` selects them);
- `notes`: the text of its notes, without their "Note" title.
"""
import html.parser
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


VOID = {'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source',
        'track', 'wbr'}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.parent, self.children = tag, parent, []
        self.classes = (dict(attrs).get('class') or '').split()


class Tree(html.parser.HTMLParser):
    """The page as a tree of Nodes and strings (enough of HTML for Sphinx's output)."""

    def __init__(self, page):
        super().__init__(convert_charrefs=True)
        self.root = self.cur = Node('#root', [], None)
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        node = self.cur
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.cur = node.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def walk(node):
    yield node
    for c in node.children:
        if isinstance(c, Node):
            yield from walk(c)


def text(node, skip=lambda n: False):
    out = []

    def go(n):
        for c in n.children:
            if isinstance(c, str):
                out.append(c)
            elif not skip(c):
                go(c)
    go(node)
    return clean(' '.join(out))


def clean(t):
    return re.sub(r'\s+', ' ', t).replace('\u00b6', '').strip()


def is_note(n):
    return 'admonition' in n.classes and 'note' in n.classes


def slides_of(page):
    out = []
    for article in (n for n in walk(Tree(page).root) if n.tag == 'article'):
        heading = next((n for n in walk(article) if re.fullmatch(r'h[1-6]', n.tag)), None)
        title = '' if heading is None else text(heading)
        body = text(article, lambda n: n is heading or is_note(n))
        steps = sum(len([c for c in n.children if isinstance(c, Node)])
                    for n in walk(article) if 'build' in n.classes)
        notes = ' '.join(text(n, lambda c: 'admonition-title' in c.classes)
                         for n in walk(article) if is_note(n))
        out.append({'title': title, 'body': body, 'steps': steps, 'notes': notes})
    return out


def build(src_dir, docs, python, levels=3):
    with tempfile.TemporaryDirectory() as tmp:
        proj = pathlib.Path(tmp)
        shutil.copytree(src_dir, proj, dirs_exist_ok=True)
        (proj / 'conf.py').write_text(CONF.replace('slide_levels = 3', f'slide_levels = {levels}'))
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
                        if any(level in l for level in ('WARNING', 'ERROR', 'SEVERE', 'CRITICAL'))
                        and (key in l or len(docs) == 1)]
            slides = slides_of(page)
            results[doc] = {'slides': [s['title'] for s in slides], 'content': slides,
                            'warnings': warnings_text(warnings, proj)}
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
    for rst in sorted((HERE / 'own').glob('*.rst')):
        m = re.match(r'\.\. corpus: slide_levels = (\d+)', rst.read_text())
        res = build_single(rst, python, int(m.group(1)) if m else 3)
        write(expected / f'own-{rst.stem}.json', res)


def build_single(rst, python, levels=3):
    with tempfile.TemporaryDirectory() as tmp:
        src = pathlib.Path(tmp) / 'src'
        src.mkdir()
        shutil.copy(rst, src / 'index.rst')
        for extra in rst.parent.glob('*.html'):
            shutil.copy(extra, src / extra.name)
        return build(src, ['index'], python, levels)['index']


def write(path, res):
    path.write_text(json.dumps(res, indent=1, ensure_ascii=False) + '\n')
    print(f"{path.name}: {len(res['slides'])} slides, {len(res['warnings'])} warnings")


if __name__ == '__main__':
    main()
