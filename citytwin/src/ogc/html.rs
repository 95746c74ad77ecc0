//! Plain HTML views of the OGC resources: readable tables and links, no scripts.

use serde_json::Value;

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <style>body{{font-family:sans-serif;margin:1.5em}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:2px 6px;text-align:left}}</style></head>\
         <body><h1>{t}</h1>{body}</body></html>\n",
        t = escape(title)
    )
}

/// The `links` array of a resource as a list (JSON alternates included).
pub fn links(doc: &Value) -> String {
    let mut s = String::from("<ul>");
    for l in doc["links"].as_array().into_iter().flatten() {
        let href = text(&l["href"]);
        let label = format!("{} ({})", text(&l["title"]), text(&l["rel"]));
        s.push_str(&format!("<li><a href=\"{}\">{}</a></li>", escape(&href), escape(&label)));
    }
    s.push_str("</ul>");
    s
}

/// One table row per collection.
pub fn collections(doc: &Value) -> String {
    let mut s = String::from("<table><tr><th>Collection</th><th>Description</th><th>Items</th></tr>");
    for c in doc["collections"].as_array().into_iter().flatten() {
        let id = text(&c["id"]);
        s.push_str(&format!(
            "<tr><td><a href=\"collections/{id}?f=html\">{id}</a></td><td>{}</td>\
             <td><a href=\"collections/{id}/items?f=html\">items</a></td></tr>",
            escape(&text(&c["description"])),
            id = escape(&id)
        ));
    }
    s.push_str("</table>");
    s
}

/// Features as a table: id, geometry type, then every property seen on the page.
pub fn features(doc: &Value, item_base: &str) -> String {
    let empty = Vec::new();
    let feats = doc["features"].as_array().unwrap_or(&empty);
    let mut keys: Vec<String> = Vec::new();
    for f in feats {
        for k in f["properties"].as_object().into_iter().flat_map(|m| m.keys()) {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
    }
    let mut s = format!(
        "<p>{} of {} matched features.</p><table><tr><th>id</th><th>geometry</th>",
        text(&doc["numberReturned"]),
        text(&doc["numberMatched"])
    );
    for k in &keys {
        s.push_str(&format!("<th>{}</th>", escape(k)));
    }
    s.push_str("</tr>");
    for f in feats {
        let id = text(&f["id"]);
        s.push_str(&format!(
            "<tr><td><a href=\"{}/{}?f=html\">{}</a></td><td>{}</td>",
            escape(item_base),
            escape(&id),
            escape(&id),
            escape(&text(&f["geometry"]["type"]))
        ));
        for k in &keys {
            s.push_str(&format!("<td>{}</td>", escape(&text(&f["properties"][k]))));
        }
        s.push_str("</tr>");
    }
    s.push_str("</table>");
    s
}

/// One feature's properties as a two-column table.
pub fn feature(f: &Value) -> String {
    let mut s = format!("<p>Geometry: {}</p><table>", escape(&text(&f["geometry"]["type"])));
    for (k, v) in f["properties"].as_object().into_iter().flatten() {
        s.push_str(&format!("<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(&text(v))));
    }
    s.push_str("</table>");
    s
}
