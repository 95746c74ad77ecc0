//! The Đà Nẵng SRTM DEM read without GDAL, checked against GDAL's own figures for the file (size,
//! origin, min/max/mean as recorded in the data provenance), and served terrain PNGs decoded back.

#![allow(clippy::unwrap_used)] // tests may unwrap

use std::path::PathBuf;

use twin_tiles::terrain::{decode_terrarium, terrain_png, Dem};
use twin_tiles::TileCoord;

fn dem() -> Dem {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/dem/danang_srtm_gl1_30m.tif");
    Dem::read_geotiff(&p).unwrap()
}

#[test]
fn geotiff_matches_gdal_figures() {
    let d = dem();
    assert_eq!((d.width, d.height), (864, 900));
    // gdalinfo: origin 108.0798611 E / 16.1201389 N, pixel 0.000277778°.
    assert!((d.west - 108.079_861_1).abs() < 1e-6 && (d.north - 16.120_138_9).abs() < 1e-6);
    assert!((d.dx - 0.000_277_778).abs() < 1e-8 && (d.dy - 0.000_277_778).abs() < 1e-8);
    // gdalinfo -stats: min −25, max 686, mean 21.1.
    let (min, max, mean) = d.stats().unwrap();
    assert_eq!((min, max), (-25.0, 686.0));
    assert!((mean - 21.1).abs() < 0.05, "mean {mean}");
}

#[test]
fn terrain_tiles_decode_to_dem_elevations() {
    let d = dem();
    // Sơn Trà / Ngũ Hành Sơn area tile at z12 and a finer one at z14.
    for (lon, lat, z) in [(108.20, 16.00, 12), (108.25, 16.05, 14), (108.10, 16.10, 13)] {
        let t = TileCoord::containing(lon, lat, z).unwrap();
        let png_bytes = terrain_png(&d, t).unwrap();
        let dec = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let mut reader = dec.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (256, 256));
        assert_eq!(info.color_type, png::ColorType::Rgb);
        let n = f64::from(1u32 << z);
        let mut checked = 0;
        for (row, col) in [(0usize, 0usize), (17, 200), (128, 128), (255, 255), (90, 31)] {
            let i = (row * 256 + col) * 3;
            let e = decode_terrarium([buf[i], buf[i + 1], buf[i + 2]]);
            // Pixel centre → lon/lat by the textbook inverse mercator.
            let x = (f64::from(t.x()) + (col as f64 + 0.5) / 256.0) / n;
            let y = (f64::from(t.y()) + (row as f64 + 0.5) / 256.0) / n;
            let plon = x * 360.0 - 180.0;
            let plat = (std::f64::consts::PI * (1.0 - 2.0 * y)).sinh().atan().to_degrees();
            // The four DEM pixels around that point bound a bilinear value.
            let fc = (plon - d.west) / d.dx - 0.5;
            let fr = (d.north - plat) / d.dy - 0.5;
            if fc < 0.0 || fr < 0.0 || fc >= (d.width - 1) as f64 || fr >= (d.height - 1) as f64 {
                assert_eq!(e, 0.0, "outside the DEM is sea level");
                continue;
            }
            let (c, r) = (fc.floor() as usize, fr.floor() as usize);
            let around = [d.pixel(c, r), d.pixel(c + 1, r), d.pixel(c, r + 1), d.pixel(c + 1, r + 1)];
            let around: Vec<f64> = around.into_iter().map(Option::unwrap).collect();
            let lo = around.iter().cloned().fold(f64::INFINITY, f64::min);
            let hi = around.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            assert!(e >= lo - 0.01 && e <= hi + 0.01, "{e} not within [{lo}, {hi}] at {plon},{plat}");
            checked += 1;
        }
        assert!(checked > 0);
    }
}
