mod demo;
mod writer;

fn main() {}
