//! The slide view: one `section.slide` at a time, scaled by the CSS to fill the screen
//! at the deck's aspect ratio. The state lives here; the looks are classes on `<html>`
//! (`deck-slides`, `deck-speaker`, `deck-overview`, `deck-black`, `deck-help-open`)
//! and on the sections (`deck-current`, `deck-next`), so a slide change is two class
//! flips, a history entry and a message to the other window.
//!
//! URLs: `chapter.html?slides#slide-7` is slide 7 in the slide view; `?speaker` the same
//! in the speaker window; `#slide-last` the last slide (used when stepping back into the
//! previous chapter); `?print` the print layout. Without a flag the page is mdbook's
//! reading view, and `#slide-7` there scrolls to the slide.

use contract::page;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element, HtmlElement};

use crate::keys::{self, Action};
use crate::talk::Talk;
use crate::{dom, focus, overview, print, speaker, steps, sync};

/// Which view the page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// mdbook's article, untouched.
    Reading,
    /// One slide at a time, full screen.
    Slides,
    /// The presenter's window: current and next slide, notes, timer.
    Speaker,
    /// One slide per page.
    Print,
}

impl View {
    /// The URL flag of a view (`?slides`).
    pub fn flag(self) -> Option<&'static str> {
        match self {
            View::Reading => None,
            View::Slides => Some("slides"),
            View::Speaker => Some("speaker"),
            View::Print => Some("print"),
        }
    }
}

/// The flags the deck puts in a query string (and removes when leaving a view).
const FLAGS: &[&str] = &["slides", "speaker", "print", "notes"];

/// How a slide change came about, which decides history and sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// A key, click or swipe here: a history entry, and the other window follows.
    Local,
    /// The other window moved: a history entry, no echo.
    Remote,
    /// Back or Forward: the entry exists already.
    History,
    /// Opening the page: replaces the entry (so `#slide-last` becomes a number).
    Load,
}

/// The other chapters, from mdbook's previous/next links.
struct Chapters {
    previous: Option<String>,
    next: Option<String>,
}

pub struct Deck {
    pub document: Document,
    root: Element,
    pub sections: Vec<HtmlElement>,
    view: Cell<View>,
    current: Cell<usize>,
    /// How many steps of the current slide show.
    step: Cell<usize>,
    pub talk: Talk,
    overview: Cell<bool>,
    blackout: Cell<bool>,
    digits: RefCell<String>,
    hud: HtmlElement,
    chapters: Chapters,
    sync: RefCell<Option<sync::Link>>,
    speaker: RefCell<Option<speaker::Panel>>,
}

/// Sets up the deck on this page, in the view its URL asks for.
pub fn start(document: &Document) -> Result<Rc<Deck>, JsValue> {
    let root = dom::root(document)?;
    let list = document.query_selector_all(&format!("main {}", page::select::SLIDE))?;
    let sections: Vec<HtmlElement> = (0..list.length())
        .filter_map(|i| list.item(i).and_then(|n| n.dyn_into().ok()))
        .collect();
    let location = dom::window()?.location();
    let search = location.search()?;
    let view = view_of(&search);
    let hud = dom::element(document, "div", "", "")?;
    hud.set_id(page::id::HUD);
    hud.set_attribute("aria-live", "polite")?;
    let body = document
        .body()
        .ok_or_else(|| JsValue::from_str("no <body>"))?;
    body.append_child(&hud)?;
    let black = dom::element(document, "div", "", "")?;
    black.set_id(page::id::BLACK);
    body.append_child(&black)?;
    let help = help(document)?;
    body.append_child(&help)?;
    let deck = Rc::new(Deck {
        document: document.clone(),
        root: root.clone(),
        sections,
        view: Cell::new(View::Reading),
        current: Cell::new(0),
        step: Cell::new(0),
        talk: Talk::read(document),
        overview: Cell::new(false),
        blackout: Cell::new(false),
        digits: RefCell::new(String::new()),
        hud,
        chapters: Chapters {
            previous: chapter_link(document, "previous")?,
            next: chapter_link(document, "next")?,
        },
        sync: RefCell::new(None),
        speaker: RefCell::new(None),
    });
    set_theme(&root, initial_theme(&root))?;
    if deck.sections.is_empty() {
        // Nothing to present: show the page as it is.
        took_over(&root)?;
        return Ok(deck);
    }
    steps::count_all(&deck.sections)?;
    keys::install(&deck)?;
    overview::install(&deck)?;
    install_history(&deck)?;
    add_present_button(&deck)?;
    print::install(&root, &deck.sections)?;
    match view {
        View::Reading => {}
        View::Print => {
            deck.view.set(View::Print);
            print::enter(&root, &deck.sections, search_has(&search, "notes"))?;
        }
        View::Slides | View::Speaker => {
            let hash = location.hash()?;
            let at = deck.index_of_hash(&hash).unwrap_or(0);
            deck.enter_at(view, at, steps::of_hash(&hash))?;
        }
    }
    Ok(deck)
}

impl Deck {
    pub fn view(&self) -> View {
        self.view.get()
    }

    pub fn current(&self) -> usize {
        self.current.get()
    }

    /// Steps shown on the current slide.
    pub fn step(&self) -> usize {
        self.step.get()
    }

    pub fn blackout(&self) -> bool {
        self.blackout.get()
    }

    pub fn in_overview(&self) -> bool {
        self.overview.get()
    }

    /// Switches this page to the slide or speaker view at slide `at` (0-based).
    pub fn enter(self: &Rc<Self>, view: View, at: usize) -> Result<(), JsValue> {
        self.enter_at(view, at, 0)
    }

    /// [`Deck::enter`] with `step` steps of the slide shown.
    pub fn enter_at(self: &Rc<Self>, view: View, at: usize, step: usize) -> Result<(), JsValue> {
        self.view.set(view);
        let class = if view == View::Speaker {
            page::class::SPEAKER
        } else {
            page::class::SLIDES
        };
        self.root.class_list().add_2(page::class::ON, class)?;
        if view == View::Speaker && self.speaker.borrow().is_none() {
            *self.speaker.borrow_mut() = Some(speaker::Panel::new(self)?);
        }
        if self.sync.borrow().is_none() {
            *self.sync.borrow_mut() = sync::Link::open(self)?;
        }
        self.restore_blackout()?;
        self.go_step(at, step, Via::Load)?;
        took_over(&self.root)
    }

    /// Back to the reading view, scrolled to the slide that was showing.
    pub fn leave(&self) -> Result<(), JsValue> {
        self.set_overview(false)?;
        self.view.set(View::Reading);
        self.root.class_list().remove_3(
            page::class::ON,
            page::class::SLIDES,
            page::class::OVERVIEW,
        )?;
        let n = self.current.get();
        let url = with_flag(&dom::window()?.location().href()?, None, &slide_hash(n));
        dom::window()?
            .history()?
            .replace_state_with_url(&JsValue::NULL, "", Some(&url))?;
        self.sections[n].scroll_into_view();
        Ok(())
    }

    /// Shows slide `n` (0-based, clamped) with none of its steps.
    pub fn go(&self, n: usize, via: Via) -> Result<(), JsValue> {
        self.go_step(n, 0, via)
    }

    /// Shows slide `n` (0-based, clamped) with `step` of its steps ([`steps::ALL`]: all).
    pub fn go_step(&self, n: usize, step: usize, via: Via) -> Result<(), JsValue> {
        let n = n.min(self.sections.len() - 1);
        let old = self.current.replace(n);
        for i in [old, old + 1] {
            if let Some(s) = self.sections.get(i) {
                s.class_list()
                    .remove_2(page::class::CURRENT, page::class::NEXT)?;
            }
        }
        self.sections[n].class_list().add_1(page::class::CURRENT)?;
        self.step.set(steps::show(&self.sections[n], step)?);
        let speaker = self.view.get() == View::Speaker;
        if speaker && let Some(next) = self.sections.get(n + 1) {
            next.class_list().add_1(page::class::NEXT)?;
        }
        self.root
            .set_attribute(page::attr::SLIDE, &(n + 1).to_string())?;
        self.show_count()?;
        fit(&self.sections[n]);
        let history = dom::window()?.history()?;
        let hash = format!("#{}", steps::hash(n, self.step.get()));
        match via {
            Via::Local | Via::Remote => {
                history.push_state_with_url(&JsValue::NULL, "", Some(&hash))?
            }
            Via::Load => {
                let url = with_flag(
                    &dom::window()?.location().href()?,
                    self.view.get().flag(),
                    &steps::hash(n, self.step.get()),
                );
                history.replace_state_with_url(&JsValue::NULL, "", Some(&url))?
            }
            Via::History => {}
        }
        if via != Via::Remote {
            self.post()?;
        }
        if let Some(panel) = self.speaker.borrow().as_ref() {
            panel.update(self, via)?;
        }
        if self.overview.get() {
            self.sections[n].scroll_into_view_with_bool(false);
        }
        Ok(())
    }

    /// Tells the other window where this one is.
    fn post(&self) -> Result<(), JsValue> {
        if let Some(link) = self.sync.borrow().as_ref() {
            link.post(self.current.get() + 1, self.step.get(), self.blackout.get())?;
        }
        Ok(())
    }

    /// The other window moved (or blacked out): follow it.
    pub fn follow(
        &self,
        path: &str,
        slide: usize,
        step: usize,
        black: bool,
    ) -> Result<(), JsValue> {
        let location = dom::window()?.location();
        if black != self.blackout.get() {
            self.set_blackout(black)?;
        }
        let n = slide.saturating_sub(1);
        if path != location.pathname()? {
            let url = with_flag(path, self.view.get().flag(), &steps::hash(n, step));
            self.carry_blackout()?;
            return location.assign(&url);
        }
        if n != self.current.get() || step != self.step.get() {
            self.go_step(n, step, Via::Remote)?;
        }
        Ok(())
    }

    /// Blackout: the audience sees black.
    fn set_blackout(&self, black: bool) -> Result<(), JsValue> {
        self.blackout.set(black);
        self.root
            .class_list()
            .toggle_with_force(page::class::BLACK, black)?;
        Ok(())
    }

    /// Before the deck itself opens another chapter: a blackout goes along (through
    /// sessionStorage, this tab only), so it survives the page change.
    fn carry_blackout(&self) -> Result<(), JsValue> {
        if let Some(storage) = dom::window()?.session_storage()? {
            if self.blackout.get() {
                storage.set_item(BLACKOUT_KEY, "1")?;
            } else {
                storage.remove_item(BLACKOUT_KEY)?;
            }
        }
        Ok(())
    }

    /// A blackout carried over from the chapter before (once: a later reload or a
    /// page opened by hand starts lit).
    fn restore_blackout(&self) -> Result<(), JsValue> {
        let Some(storage) = dom::window()?.session_storage()? else {
            return Ok(());
        };
        let carried = storage.get_item(BLACKOUT_KEY)?;
        storage.remove_item(BLACKOUT_KEY)?;
        if carried.as_deref() == Some("1") {
            self.set_blackout(true)?;
        }
        Ok(())
    }

    fn next(&self) -> Result<(), JsValue> {
        let n = self.current.get();
        let total = steps::of(&self.sections[n]).len();
        if let Some(step) = steps::forward(self.step.get(), total) {
            self.go_step(n, step, Via::Local)
        } else if n + 1 < self.sections.len() {
            self.go(n + 1, Via::Local)
        } else if let Some(next) = &self.chapters.next {
            self.open_chapter(next, &page::slide_id(1))
        } else {
            Ok(())
        }
    }

    fn previous(&self) -> Result<(), JsValue> {
        let n = self.current.get();
        if let Some(step) = steps::backward(self.step.get()) {
            self.go_step(n, step, Via::Local)
        } else if n > 0 {
            self.go_step(n - 1, steps::ALL, Via::Local)
        } else if let Some(previous) = &self.chapters.previous {
            self.open_chapter(previous, "slide-last")
        } else {
            Ok(())
        }
    }

    /// The URL of the next chapter, for the speaker window at a chapter's end.
    pub fn next_chapter(&self) -> Option<&str> {
        self.chapters.next.as_deref()
    }

    fn open_chapter(&self, href: &str, hash: &str) -> Result<(), JsValue> {
        let url = with_flag(href, self.view.get().flag(), hash);
        self.carry_blackout()?;
        dom::window()?.location().assign(&url)
    }

    /// Does what a key asks.
    pub fn act(self: &Rc<Self>, action: Action) -> Result<(), JsValue> {
        if !matches!(action, Action::Digit(_) | Action::Enter) && !self.digits.borrow().is_empty() {
            self.digits.borrow_mut().clear();
            self.show_count()?;
        }
        match action {
            Action::Present => {
                let at = self.reading_position()?;
                self.enter(View::Slides, at)?;
            }
            Action::Next => self.next()?,
            Action::Previous => self.previous()?,
            Action::First => self.go(0, Via::Local)?,
            Action::Last => self.go(self.sections.len() - 1, Via::Local)?,
            Action::Digit(d) => {
                let mut digits = self.digits.borrow_mut();
                if digits.len() < 4 {
                    digits.push(char::from(b'0' + d));
                }
                drop(digits);
                self.show_count()?;
            }
            Action::Enter => {
                let typed = std::mem::take(&mut *self.digits.borrow_mut());
                if let Ok(n) = typed.parse::<usize>()
                    && n > 0
                {
                    self.jump(n)?;
                }
                self.set_overview(false)?;
                self.show_count()?;
            }
            Action::Fullscreen => toggle_fullscreen(&self.document)?,
            Action::Overview => {
                if self.view.get() == View::Slides {
                    self.set_overview(!self.overview.get())?;
                }
            }
            Action::Escape => {
                if self.root.class_list().contains(page::class::HELP_OPEN) {
                    self.root.class_list().remove_1(page::class::HELP_OPEN)?;
                } else if self.view.get() == View::Slides {
                    if self.overview.get() {
                        self.leave()?;
                    } else {
                        self.set_overview(true)?;
                    }
                }
            }
            Action::Blackout => {
                self.set_blackout(!self.blackout.get())?;
                self.post()?;
            }
            Action::NotesDown
            | Action::NotesUp
            | Action::NotesLarger
            | Action::NotesSmaller
            | Action::TimerToggle
            | Action::TimerReset => {
                if let Some(panel) = self.speaker.borrow().as_ref() {
                    panel.act(action)?;
                }
            }
            Action::Speaker => {
                if self.view.get() == View::Slides {
                    speaker::open(self)?;
                }
            }
            Action::Expand => focus::toggle_current(&self.document)?,
            Action::Help => {
                self.root.class_list().toggle(page::class::HELP_OPEN)?;
            }
            Action::Theme => {
                let dark = !self.root.class_list().contains(page::class::DARK);
                set_theme(&self.root, dark)?;
                if let Some(storage) = dom::window()?.local_storage()? {
                    storage.set_item(page::store::THEME, if dark { "dark" } else { "light" })?;
                }
            }
        }
        Ok(())
    }

    pub fn set_overview(&self, on: bool) -> Result<(), JsValue> {
        if self.overview.replace(on) == on {
            return Ok(());
        }
        self.root
            .class_list()
            .toggle_with_force(page::class::OVERVIEW, on)?;
        if on {
            overview::load_other_chapters(&self.document)?;
            overview::show_current(&self.document)?;
        } else {
            fit(&self.sections[self.current.get()]);
        }
        Ok(())
    }

    /// "23 / 45" (the slide's number in the whole talk), or the number being typed.
    fn show_count(&self) -> Result<(), JsValue> {
        let digits = self.digits.borrow();
        let text = if digits.is_empty() {
            let (n, total) = self.talk_position();
            format!("{n} / {total}")
        } else {
            format!("go to {digits}…")
        };
        self.hud.set_text_content(Some(&text));
        Ok(())
    }

    /// The current slide's number in the whole talk and the talk's slide count (this
    /// chapter's when the page does not know the talk).
    pub fn talk_position(&self) -> (usize, usize) {
        let n = self.current.get();
        if self.talk.total == 0 {
            (n + 1, self.sections.len())
        } else {
            (self.talk.number(n), self.talk.total)
        }
    }

    /// "A number, then Enter": slide `number` of the whole talk, in whichever chapter.
    fn jump(&self, number: usize) -> Result<(), JsValue> {
        let here = self.talk.number(0);
        if self.talk.total == 0 || (here..here + self.sections.len()).contains(&number) {
            let n = if self.talk.total == 0 {
                number
            } else {
                number + 1 - here
            };
            return self.go(n - 1, Via::Local);
        }
        let Some((page, slide)) = self.talk.locate(number) else {
            return Ok(());
        };
        let href = web_sys::Url::new_with_base(
            &format!("{}{page}", self.talk.root),
            &dom::window()?.location().href()?,
        )?
        .href();
        self.open_chapter(&href, &page::slide_id(slide))
    }

    /// The slide of a URL fragment: `#slide-N`, `#slide-last`, or the slide holding the
    /// element with that id (a heading anchor).
    fn index_of_hash(&self, hash: &str) -> Option<usize> {
        if let Some(n) = slide_of_hash(hash, self.sections.len()) {
            return Some(n);
        }
        let id = hash.strip_prefix('#').filter(|id| !id.is_empty())?;
        let target = self.document.get_element_by_id(id)?;
        let section = target.closest(page::select::SLIDE).ok()??;
        self.sections
            .iter()
            .position(|s| s.is_same_node(Some(&section)))
    }

    /// The slide a reader is looking at: the URL's, or the first one on screen.
    fn reading_position(&self) -> Result<usize, JsValue> {
        if let Some(n) = self.index_of_hash(&dom::window()?.location().hash()?) {
            return Ok(n);
        }
        Ok(self
            .sections
            .iter()
            .position(|s| s.get_bounding_client_rect().bottom() > 80.0)
            .unwrap_or(0))
    }
}

/// Where a blackout waits for the next chapter's page (this tab only).
const BLACKOUT_KEY: &str = page::store::BLACKOUT;

/// The player has taken over the page: the reading page, hidden until now when the URL
/// asked for the slide or speaker view (`deck-loading`, set before the first paint by
/// `theme/head.hbs` and `theme/deck.js`), can show as slides. `data-took-over` is when,
/// for the test that no frame of the reading page shows.
fn took_over(root: &Element) -> Result<(), JsValue> {
    let now = dom::window()?.performance().map_or(0.0, |p| p.now());
    root.set_attribute(page::attr::TOOK_OVER, &format!("{now:.1}"))?;
    root.class_list().remove_1(page::class::LOADING)
}

/// Shrinks a slide whose content is taller than the slide (a long list, say) until it
/// fits; slides that fit cost one layout read. The factor is kept per slide size.
pub fn fit(section: &HtmlElement) {
    shrink_to_fit(section, page::property::FIT);
}

/// Fits a slide again after its content changed (a terminal showing all its lines).
pub fn refit(section: &HtmlElement) {
    let _ = section.remove_attribute(&page::fit_attribute(page::property::FIT));
    fit(section);
}

/// Sets the custom property `factor` (which the CSS multiplies the element's font size
/// by) so that the element's content fits its box.
pub fn shrink_to_fit(element: &HtmlElement, factor_property: &str) {
    let key = format!("{}x{}", element.client_width(), element.client_height());
    let marker = page::fit_attribute(factor_property);
    if element.get_attribute(&marker).as_deref() == Some(key.as_str()) {
        return;
    }
    let style = element.style();
    let _ = style.remove_property(factor_property);
    let mut factor = 1.0;
    for _ in 0..4 {
        let worst = fill(element);
        if worst >= 1.0 {
            break;
        }
        factor *= worst.max(0.5) * 0.98;
        let _ = style.set_property(factor_property, &format!("{factor:.3}"));
    }
    if factor < 1.0 && fill(element) >= 1.0 {
        // Text wraps differently at each size, so the first guess shrinks too much:
        // find the largest factor that still fits (to within about 1 %).
        let (mut fits, mut too_big) = (factor, 1.0_f64);
        for _ in 0..5 {
            let mid = (fits + too_big) / 2.0;
            let _ = style.set_property(factor_property, &format!("{mid:.3}"));
            if fill(element) >= 1.0 {
                fits = mid;
            } else {
                too_big = mid;
            }
        }
        let _ = style.set_property(factor_property, &format!("{fits:.3}"));
    }
    let _ = element.set_attribute(&marker, &key);
}

/// How much of its box an element's content needs, as the box over the content in the
/// worse direction: 1 when it fits, 0.8 when it is a quarter too tall (or too wide: a
/// long code line, a wide table).
fn fill(element: &HtmlElement) -> f64 {
    let ratio = |inner: i32, outer: i32| {
        if outer == 0 || inner <= outer + 1 {
            1.0
        } else {
            outer as f64 / inner as f64
        }
    };
    ratio(element.scroll_height(), element.client_height())
        .min(ratio(element.scroll_width(), element.client_width()))
}

/// `#slide-7` → 6, `#slide-last` → the last; anything else `None`.
pub fn slide_of_hash(hash: &str, count: usize) -> Option<usize> {
    let rest = hash
        .strip_prefix('#')?
        .strip_prefix(page::SLIDE_ID_PREFIX)?;
    // `#slide-7.2` names a step of slide 7 (see `steps`).
    let rest = rest.split('.').next().unwrap_or(rest);
    if count == 0 {
        return None;
    }
    if rest == "last" {
        return Some(count - 1);
    }
    let n: usize = rest.parse().ok()?;
    (n >= 1).then(|| (n - 1).min(count - 1))
}

/// The fragment of slide `n` (0-based), without `#`.
pub fn slide_hash(n: usize) -> String {
    page::slide_id(n + 1)
}

/// The view a query string asks for.
pub fn view_of(search: &str) -> View {
    if search_has(search, "speaker") {
        View::Speaker
    } else if search_has(search, "print") {
        View::Print
    } else if search_has(search, "slides") {
        View::Slides
    } else {
        View::Reading
    }
}

/// Whether a query string (`?a&b=1`) has parameter `name`.
pub fn search_has(search: &str, name: &str) -> bool {
    search
        .trim_start_matches('?')
        .split('&')
        .any(|p| p.split('=').next() == Some(name))
}

/// `url` with the deck's view flag replaced by `flag` and the fragment by `hash`; other
/// query parameters stay.
pub fn with_flag(url: &str, flag: Option<&str>, hash: &str) -> String {
    let url = url.split('#').next().unwrap_or(url);
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut params: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !FLAGS.contains(&p.split('=').next().unwrap_or(p)))
        .collect();
    if let Some(flag) = flag {
        params.insert(0, flag);
    }
    let mut out = base.to_string();
    if !params.is_empty() {
        out.push('?');
        out.push_str(&params.join("&"));
    }
    if !hash.is_empty() {
        out.push('#');
        out.push_str(hash);
    }
    out
}

/// mdbook's link to the previous or next chapter, as an absolute URL.
fn chapter_link(document: &Document, which: &str) -> Result<Option<String>, JsValue> {
    let selector =
        format!("a.nav-chapters.{which}, a.mobile-nav-chapters.{which}, link[rel={which}]");
    let Some(el) = document.query_selector(&selector)? else {
        return Ok(None);
    };
    if let Some(a) = el.dyn_ref::<web_sys::HtmlAnchorElement>() {
        return Ok(Some(a.href()));
    }
    Ok(el.get_attribute("href").map(|h| {
        web_sys::Url::new_with_base(&h, &document.url().unwrap_or_default())
            .map(|u| u.href())
            .unwrap_or(h)
    }))
}

/// Slides are dark when the reader chose a dark mdbook theme (or T said so).
fn initial_theme(root: &Element) -> bool {
    let stored = dom::window()
        .ok()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item(page::store::THEME).ok().flatten());
    match stored.as_deref() {
        Some("dark") => true,
        Some("light") => false,
        _ => ["coal", "navy", "ayu"]
            .iter()
            .any(|t| root.class_list().contains(t)),
    }
}

fn set_theme(root: &Element, dark: bool) -> Result<(), JsValue> {
    root.class_list()
        .toggle_with_force(page::class::DARK, dark)?;
    root.class_list()
        .toggle_with_force(page::class::LIGHT, !dark)?;
    Ok(())
}

fn toggle_fullscreen(document: &Document) -> Result<(), JsValue> {
    if document.fullscreen_element().is_some() {
        document.exit_fullscreen();
    } else {
        dom::root(document)?.request_fullscreen()?;
    }
    Ok(())
}

/// Back and Forward move through slides (each slide change pushed an entry).
fn install_history(deck: &Rc<Deck>) -> Result<(), JsValue> {
    let window = dom::window()?;
    let deck = Rc::clone(deck);
    dom::listen(&window, "popstate", false, move |_: web_sys::Event| {
        if !matches!(deck.view(), View::Slides | View::Speaker) {
            return;
        }
        let hash = dom::window()
            .and_then(|w| w.location().hash())
            .unwrap_or_default();
        if let Some(n) = deck.index_of_hash(&hash)
            && let Err(e) = deck.go_step(n, steps::of_hash(&hash), Via::History)
        {
            dom::report(&e);
        }
    })
}

/// A ▶ button in mdbook's menu bar that starts the slide view.
fn add_present_button(deck: &Rc<Deck>) -> Result<(), JsValue> {
    let Some(bar) = deck
        .document
        .query_selector("#mdbook-menu-bar .right-buttons, .menu-bar .right-buttons")?
    else {
        return Ok(());
    };
    let target = Rc::clone(deck);
    let button = dom::button(
        &deck.document,
        &format!("icon-button {}", page::class::PRESENT),
        "▶",
        "Present as slides (D)",
        move || target.act(Action::Present),
    )?;
    button.set_attribute("aria-label", "Present as slides")?;
    bar.prepend_with_node_1(&button)?;
    Ok(())
}

/// The key help overlay (`?`).
fn help(document: &Document) -> Result<HtmlElement, JsValue> {
    let panel = dom::element(document, "div", "", "")?;
    panel.set_id(page::id::HELP);
    let title = dom::element(document, "h2", "", "Keys")?;
    panel.append_child(&title)?;
    let table = dom::element(document, "dl", "", "")?;
    for row in keys::HELP {
        let (dt, dd) = (
            dom::element(document, "dt", "", row.shown)?,
            dom::element(document, "dd", "", row.what)?,
        );
        table.append_child(&dt)?;
        table.append_child(&dd)?;
    }
    panel.append_child(&table)?;
    Ok(panel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_name_slides() {
        assert_eq!(slide_of_hash("#slide-1", 5), Some(0));
        assert_eq!(slide_of_hash("#slide-9", 5), Some(4));
        assert_eq!(slide_of_hash("#slide-last", 5), Some(4));
        assert_eq!(slide_of_hash("#slide-0", 5), None);
        assert_eq!(slide_of_hash("#peek", 5), None);
        assert_eq!(slide_of_hash("#slide-2", 0), None);
    }

    #[test]
    fn views_come_from_the_query() {
        assert_eq!(view_of("?slides"), View::Slides);
        assert_eq!(view_of("?x=1&speaker"), View::Speaker);
        assert_eq!(view_of("?print&notes"), View::Print);
        assert_eq!(view_of(""), View::Reading);
        assert_eq!(view_of("?slidesx"), View::Reading);
    }

    #[test]
    fn flags_replace_flags_and_keep_other_parameters() {
        assert_eq!(
            with_flag(
                "http://h/talk/a.html?x=1&slides#slide-3",
                Some("speaker"),
                "slide-4"
            ),
            "http://h/talk/a.html?speaker&x=1#slide-4"
        );
        assert_eq!(
            with_flag("http://h/talk/a.html?slides#slide-3", None, "slide-3"),
            "http://h/talk/a.html#slide-3"
        );
        assert_eq!(
            with_flag("/talk/b.html", Some("slides"), "slide-last"),
            "/talk/b.html?slides#slide-last"
        );
    }

    #[test]
    fn each_view_has_the_flag_its_query_is_read_from() {
        for view in [View::Slides, View::Speaker, View::Print] {
            let flag = view.flag().expect("a view other than reading has a flag");
            assert_eq!(view_of(&format!("?{flag}")), view);
        }
        assert_eq!(View::Reading.flag(), None);
    }

    #[test]
    fn slide_hashes_count_from_one_and_read_back_as_the_same_slide() {
        assert_eq!(slide_hash(0), "slide-1");
        assert_eq!(slide_hash(2), "slide-3");
        for n in 0..5 {
            assert_eq!(slide_of_hash(&format!("#{}", slide_hash(n)), 5), Some(n));
        }
    }
}
