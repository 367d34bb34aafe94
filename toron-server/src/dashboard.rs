//! The dashboard: a page and its script, styles and icon, embedded in the binary (no CDN, nothing from
//! elsewhere), served at `/`. It talks to the API like any client, with the token the user gives it (kept in
//! the tab's session storage, sent as the bearer header; event streams use a ticket, never the token).
//!
//! The page's content security policy (set for every HTML response, see `api::security_headers`) allows
//! scripts from this server only and no inline script, so the assets keep to that: one script file, no
//! `on...=` attributes, no `eval`, and data put into the page as text. The tests below check the assets for it.

use crate::api::AppState;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

const INDEX: &str = include_str!("../assets/index.html");
const SCRIPT: &str = include_str!("../assets/app.js");
const STYLE: &str = include_str!("../assets/app.css");
const ICON: &str = include_str!("../assets/favicon.svg");

fn asset(body: &'static str, media: &'static str) -> Response {
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    // Revalidated on every load, so a new binary's dashboard is never mixed with an old cached script.
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// The dashboard's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { asset(INDEX, "text/html; charset=utf-8") }))
        .route(
            "/assets/app.js",
            get(|| async { asset(SCRIPT, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/assets/app.css",
            get(|| async { asset(STYLE, "text/css; charset=utf-8") }),
        )
        .route("/assets/favicon.svg", get(|| async { asset(ICON, "image/svg+xml") }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `http://` or `https://` in an asset: nothing may be loaded from elsewhere (the SVG namespace is a
    /// name, not a load).
    fn outside_urls(text: &str) -> Vec<String> {
        let mut found = Vec::new();
        for scheme in ["http://", "https://"] {
            for (i, _) in text.match_indices(scheme) {
                let rest = &text[i..];
                let end = rest
                    .find(|c: char| c == '"' || c == '\'' || c.is_whitespace())
                    .unwrap_or(rest.len());
                let url = &rest[..end];
                if url != "http://www.w3.org/2000/svg" {
                    found.push(url.to_string());
                }
            }
        }
        found
    }

    #[test]
    fn nothing_comes_from_elsewhere() {
        for (name, text) in [
            ("index.html", INDEX),
            ("app.js", SCRIPT),
            ("app.css", STYLE),
            ("favicon.svg", ICON),
        ] {
            assert_eq!(outside_urls(text), Vec::<String>::new(), "{name} names an outside URL");
            assert!(!text.contains("@import"), "{name} imports a stylesheet");
        }
    }

    #[test]
    fn the_page_keeps_to_its_content_security_policy() {
        // One script, by URL; no inline script and no inline handler (the CSP would refuse them).
        assert_eq!(INDEX.matches("<script").count(), 1);
        assert!(INDEX.contains(r#"<script src="/assets/app.js" defer></script>"#));
        let lower = INDEX.to_ascii_lowercase();
        for attr in [
            " onclick=",
            " onload=",
            " onsubmit=",
            " onchange=",
            " oninput=",
            "javascript:",
        ] {
            assert!(!lower.contains(attr), "index.html has {attr}");
        }
        // Data goes into the DOM as text; the script never evaluates strings.
        for banned in [
            ".innerHTML",
            ".outerHTML",
            "insertAdjacentHTML(",
            "document.write(",
            "eval(",
            "new Function(",
            "setTimeout('",
            "setTimeout(\"",
        ] {
            assert!(!SCRIPT.contains(banned), "app.js uses {banned}");
        }
        // Server HTML (golden diffs, the HTML report) is only ever shown sandboxed.
        assert!(SCRIPT.contains("sandbox: ''"));
    }

    #[test]
    fn the_token_never_goes_into_a_url() {
        // The only stream URL the script builds carries a ticket.
        assert!(SCRIPT.contains("new EventSource(`/v1/test-runs/${encodeURIComponent(this.runId)}/events?${q}`)"));
        assert!(SCRIPT.contains("new URLSearchParams({ ticket: ticket.ticket })"));
        assert!(!SCRIPT.contains("token="), "app.js puts a token in a query");
    }

    #[test]
    fn every_asset_the_page_names_is_served() {
        for path in ["/assets/app.js", "/assets/app.css", "/assets/favicon.svg"] {
            assert!(INDEX.contains(path), "index.html does not name {path}");
        }
    }
}
