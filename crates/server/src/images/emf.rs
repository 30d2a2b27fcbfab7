//! EMF, for scripts that ask for `format='emf'` to put charts into Office documents: a file of
//! three records, a header, one `EMR_STRETCHDIBITS` drawing the rendered PNG as a 32-bit
//! device-independent bitmap at 96 dpi, and the end-of-file record ([MS-EMF]).

/// The header's signature, `" EMF"`, at byte offset 40.
const SIGNATURE: u32 = 0x464D_4520;
const EMR_HEADER: u32 = 1;
const EMR_STRETCHDIBITS: u32 = 81;
const EMR_EOF: u32 = 14;
/// The header record without its optional extensions.
const HEADER_BYTES: u32 = 88;
/// `EMR_STRETCHDIBITS` up to its bitmap header, then the bitmap header.
const STRETCH_FIXED: u32 = 80;
const BITMAP_HEADER: u32 = 40;
const EOF_BYTES: u32 = 20;
/// Pixels per meter at 96 dpi.
const PIXELS_PER_METER: u32 = 3780;

/// An EMF file showing the PNG `png`. Transparent pixels are laid over white.
pub(crate) fn from_png(png: &[u8]) -> Result<Vec<u8>, String> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(|err| format!("the PNG does not read: {err}"))?;
    let mut pixels = vec![0; reader.output_buffer_size().ok_or("the PNG is too large")?];
    let frame =
        reader.next_frame(&mut pixels).map_err(|err| format!("the PNG does not read: {err}"))?;
    let (width, height) = (frame.width, frame.height);
    let channels = frame.color_type.samples();
    let bgra =
        bottom_up_bgra(&pixels[..frame.buffer_size()], width, height, channels, frame.line_size);
    Ok(emf(width, height, &bgra))
}

/// The pixels as 32-bit BGR0 rows, the bottom row first, as a bottom-up DIB holds them.
fn bottom_up_bgra(pixels: &[u8], width: u32, height: u32, channels: usize, line: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(width as usize * height as usize * 4);
    for row in pixels.chunks(line).take(height as usize).rev() {
        for pixel in row.chunks(channels).take(width as usize) {
            let (r, g, b, a) = match *pixel {
                [gray] => (gray, gray, gray, 255),
                [gray, alpha] => (gray, gray, gray, alpha),
                [r, g, b] => (r, g, b, 255),
                [r, g, b, a, ..] => (r, g, b, a),
                [] => (255, 255, 255, 0),
            };
            let over_white = |channel: u8| {
                let (c, a) = (u32::from(channel), u32::from(a));
                ((c * a + 255 * (255 - a)) / 255) as u8
            };
            out.extend([over_white(b), over_white(g), over_white(r), 0]);
        }
    }
    out
}

/// The three records around `bgra`, a bottom-up 32-bit bitmap of `width × height`.
fn emf(width: u32, height: u32, bgra: &[u8]) -> Vec<u8> {
    let bits = u32::try_from(bgra.len()).unwrap_or(u32::MAX);
    let stretch_bytes = STRETCH_FIXED + BITMAP_HEADER + bits;
    let total = HEADER_BYTES + stretch_bytes + EOF_BYTES;
    let (w, h) =
        (i32::try_from(width).unwrap_or(i32::MAX), i32::try_from(height).unwrap_or(i32::MAX));
    // The picture's size in hundredths of a millimetre, and the reference device's in
    // millimetres, both at 96 dpi.
    let hundredths = |pixels: i32| pixels.saturating_mul(2540) / 96;
    let millimetres = |pixels: i32| pixels.saturating_mul(254) / 960;
    let mut out = Vec::with_capacity(total as usize);
    let u32s = |values: &[u32], out: &mut Vec<u8>| {
        for value in values {
            out.extend(value.to_le_bytes());
        }
    };
    let i32s = |values: &[i32], out: &mut Vec<u8>| {
        for value in values {
            out.extend(value.to_le_bytes());
        }
    };
    // EMR_HEADER: type, size, bounds, frame, signature, version, bytes, records,
    // handles and reserved, description (none), palette entries (none), device, millimetres.
    u32s(&[EMR_HEADER, HEADER_BYTES], &mut out);
    i32s(&[0, 0, w - 1, h - 1], &mut out);
    i32s(&[0, 0, hundredths(w) - 1, hundredths(h) - 1], &mut out);
    u32s(&[SIGNATURE, 0x0001_0000, total, 3], &mut out);
    out.extend(1u16.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    u32s(&[0, 0, 0], &mut out);
    i32s(&[w, h, millimetres(w), millimetres(h)], &mut out);
    // EMR_STRETCHDIBITS: type, size, bounds, destination and source corners, source size,
    // where the bitmap header and bits are, colours as RGB, SRCCOPY, destination size.
    u32s(&[EMR_STRETCHDIBITS, stretch_bytes], &mut out);
    i32s(&[0, 0, w - 1, h - 1, 0, 0, 0, 0, w, h], &mut out);
    u32s(
        &[STRETCH_FIXED, BITMAP_HEADER, STRETCH_FIXED + BITMAP_HEADER, bits, 0, 0x00CC_0020],
        &mut out,
    );
    i32s(&[w, h], &mut out);
    // BITMAPINFOHEADER: size, width, height (positive: bottom-up), planes and bits per
    // pixel, no compression, image size, resolution, no palette.
    u32s(&[BITMAP_HEADER], &mut out);
    i32s(&[w, h], &mut out);
    out.extend(1u16.to_le_bytes());
    out.extend(32u16.to_le_bytes());
    u32s(&[0, bits, PIXELS_PER_METER, PIXELS_PER_METER, 0, 0], &mut out);
    out.extend_from_slice(bgra);
    // EMR_EOF: type, size, no palette, where it would be, the record's size again.
    u32s(&[EMR_EOF, EOF_BYTES, 0, 16, EOF_BYTES], &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(bytes: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
    }

    /// A 2 × 1 RGBA PNG: a red pixel, then a fully transparent one.
    fn tiny_png() -> Vec<u8> {
        let mut png = Vec::new();
        let mut encoder = png::Encoder::new(&mut png, 2, 1);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&[255, 0, 0, 255, 0, 0, 0, 0]).unwrap();
        writer.finish().unwrap();
        png
    }

    #[test]
    fn an_emf_holds_the_bitmap_between_a_header_and_an_end() {
        let emf = from_png(&tiny_png()).unwrap();
        assert_eq!(word(&emf, 0), EMR_HEADER);
        assert_eq!(word(&emf, 40), SIGNATURE);
        assert_eq!(word(&emf, 48) as usize, emf.len(), "the header gives the file's size");
        assert_eq!(word(&emf, 52), 3, "three records");
        let stretch = HEADER_BYTES as usize;
        assert_eq!(word(&emf, stretch), EMR_STRETCHDIBITS);
        let bits = stretch + (STRETCH_FIXED + BITMAP_HEADER) as usize;
        assert_eq!(&emf[bits..bits + 8], &[0, 0, 255, 0, 255, 255, 255, 0], "BGR, over white");
        let end = emf.len() - EOF_BYTES as usize;
        assert_eq!(word(&emf, end), EMR_EOF);
        assert_eq!(word(&emf, stretch + 4) as usize, end - stretch, "records fit end to end");
    }

    #[test]
    fn what_is_not_a_png_is_an_error() {
        assert!(from_png(b"not a png").is_err());
    }
}
