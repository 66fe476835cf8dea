//! [`Plain`]: a view with nothing reactive in it (a receipt, a message),
//! built with the DOM's own calls from a static template and its words.
//!
//! Through `view!`, every element of every screen brings its own code into
//! the page: creating it, setting each attribute, mounting, unmounting and
//! dropping the state that holds it, each inlined for its own type. A plain
//! view's template is data, read by one builder, and its call site passes
//! only the words that change, so a screen costs little more than its
//! words. Plain screens have no event handlers and nothing that changes;
//! they are replaced whole, as [`crate::fresh::Fresh`] replaces the others.

use leptos::tachys::html::attribute::Attribute;
use leptos::tachys::html::attribute::any_attribute::AnyAttribute;
use leptos::tachys::hydration::Cursor;
use leptos::tachys::renderer::Rndr;
use leptos::tachys::renderer::types::{Element, Node};
use leptos::tachys::view::add_attr::AddAnyAttr;
use leptos::tachys::view::{Mountable, Position, PositionState, Render, RenderHtml};
use send_wrapper::SendWrapper;
use wasm_bindgen::JsCast;

/// A value in a template: fixed, or the call's argument of that index.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Val {
    Is(&'static str),
    Arg(usize),
}

/// A template's part.
#[derive(Debug, PartialEq)]
pub enum Tpl {
    /// An element: its tag, its attributes, its children.
    El(&'static str, &'static [(&'static str, Val)], &'static [Tpl]),
    Text(Val),
    /// These parts only when the argument of that index is not empty.
    If(usize, &'static [Tpl]),
}

fn value<'a>(val: Val, args: &[&'a str]) -> &'a str {
    match val {
        Val::Is(fixed) => fixed,
        Val::Arg(n) => args.get(n).copied().unwrap_or_default(),
    }
}

fn create(parts: &[Tpl], args: &[&str], into: &mut dyn FnMut(Node)) {
    for part in parts {
        match part {
            Tpl::Text(val) => into(Rndr::create_text_node(value(*val, args)).unchecked_into()),
            Tpl::El(tag, attrs, children) => {
                let element = Rndr::create_element(tag, None);
                for (name, val) in *attrs {
                    Rndr::set_attribute(&element, name, value(*val, args));
                }
                create(children, args, &mut |child| {
                    Rndr::insert_node(&element, &child, None)
                });
                into(element.unchecked_into());
            }
            Tpl::If(n, parts) => {
                if !value(Val::Arg(*n), args).is_empty() {
                    create(parts, args, into);
                }
            }
        }
    }
}

/// Nodes built from a template, side by side. Built at once (the pages
/// are single-threaded: the nodes never leave the thread that made them).
pub struct Plain(SendWrapper<Vec<Node>>);

impl Plain {
    /// `template` with `args` in its [`Val::Arg`]s.
    pub fn new(template: &'static [Tpl], args: &[&str]) -> Plain {
        let mut nodes = Vec::new();
        create(template, args, &mut |node| nodes.push(node));
        Plain(SendWrapper::new(nodes))
    }
}

/// The nodes a [`Plain`] view put on the page.
pub struct PlainState(Vec<Node>);

impl Render for Plain {
    type State = PlainState;

    fn build(self) -> Self::State {
        PlainState(self.0.take())
    }

    fn rebuild(self, state: &mut Self::State) {
        let mut new = self.build();
        state.insert_before_this(&mut new);
        state.unmount();
        *state = new;
    }
}

impl Mountable for PlainState {
    fn unmount(&mut self) {
        for node in &self.0 {
            Rndr::remove(node);
        }
    }

    fn mount(&mut self, parent: &Element, marker: Option<&Node>) {
        for node in &self.0 {
            Rndr::insert_node(parent, node, marker);
        }
    }

    fn insert_before_this(&self, child: &mut dyn Mountable) -> bool {
        self.0
            .first()
            .is_some_and(|first| first.insert_before_this(child))
    }

    fn elements(&self) -> Vec<Element> {
        self.0
            .iter()
            .filter_map(|node| node.dyn_ref::<Element>().cloned())
            .collect()
    }
}

/// Like text, a plain view takes no attributes spread onto it.
impl AddAnyAttr for Plain {
    type Output<SomeNewAttr: Attribute> = Plain;

    fn add_any_attr<NewAttr: Attribute>(self, _attr: NewAttr) -> Self::Output<NewAttr>
    where
        Self::Output<NewAttr>: RenderHtml,
    {
        self
    }
}

impl RenderHtml for Plain {
    type AsyncOutput = Plain;
    type Owned = Plain;

    const MIN_LENGTH: usize = 0;

    fn dry_resolve(&mut self) {}

    async fn resolve(self) -> Self::AsyncOutput {
        self
    }

    /// The nodes as the browser writes them in HTML (the pages render in
    /// the browser, so this is never asked for there).
    fn to_html_with_buf(
        self,
        buf: &mut String,
        position: &mut Position,
        _escape: bool,
        _mark_branches: bool,
        _extra_attrs: Vec<AnyAttribute>,
    ) {
        let holder = Rndr::create_element("div", None);
        for node in self.0.iter() {
            if let Ok(copy) = node.clone_node_with_deep(true) {
                Rndr::insert_node(&holder, &copy, None);
            }
        }
        buf.push_str(&holder.inner_html());
        *position = Position::NextChild;
    }

    /// The pages are rendered in the browser, never hydrated: the nodes
    /// built are used as they are.
    fn hydrate<const FROM_SERVER: bool>(
        self,
        _cursor: &Cursor,
        _position: &PositionState,
    ) -> Self::State {
        self.build()
    }

    fn into_owned(self) -> Self::Owned {
        self
    }
}
