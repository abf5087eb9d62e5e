#!/usr/bin/env python3
"""One-off migration (session 10): turn the committed outcome.json of the tokenizer report's
standard run at 1023c8d (fmnist-color part complete, 7f5935d) into entries of the report's
ledger (docs/results/tokenizer/ledger/), which that run predates.

The cells' recipe names are unchanged since (the standard run at fc0ebb3 reproduced the first
cell bit for bit: rFD, probes, gFD, class accuracy), so each imported entry is exactly what the
ledger would hold had it existed then; each names the run that measured it (its provenance,
commit 1023c8d) and says it was imported. Reconstructions and originals are cut from the
committed reconstruction grids (32 px tiles, 2 px padding, lossless PNG).
usage: import-outcome-into-ledger.py RESULTS_DIR LEDGER_DIR TOKENIZER_KEY_SUFFIX GENERATOR_KEY_SUFFIX
"""
import base64, json, os, struct, sys, zlib

def png_read(path):
    d = open(path, 'rb').read()
    assert d[:8] == b'\x89PNG\r\n\x1a\n'
    pos, idat, w = 8, b'', None
    while pos < len(d):
        n, t = struct.unpack('>I4s', d[pos:pos + 8]); body = d[pos + 8:pos + 8 + n]; pos += 12 + n
        if t == b'IHDR':
            w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
            assert depth == 8 and ctype == 2, 'expected 8-bit RGB'
        elif t == b'IDAT': idat += body
    raw, bpp, stride = zlib.decompress(idat), 3, w * 3
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0; b = prev[i]; c = prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else (b if pb <= pc else c))) & 255
        rows.append(bytes(line)); prev = line
    return w, h, rows

def png_write(w, h, rows):
    def chunk(t, b): return struct.pack('>I', len(b)) + t + b + struct.pack('>I', zlib.crc32(t + b) & 0xffffffff)
    raw = b''.join(b'\x00' + r for r in rows)
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
            + chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b''))

def tile(rows, r, c, cell=32, pad=2):
    x0, y0 = pad + c * (cell + pad), pad + r * (cell + pad)
    return base64.b64encode(png_write(cell, cell, [rows[y][x0 * 3:(x0 + cell) * 3] for y in range(y0, y0 + cell)])).decode()

def main(results, ledger, tok_suffix, gen_suffix):
    o = json.load(open(os.path.join(results, 'tokenizer/outcome.json')))
    prov = dict(o['provenance'], via='imported from the committed outcome.json of the run at this commit (7f5935d)')
    variants, written = o['plan']['variants'], 0
    os.makedirs(ledger, exist_ok=True)
    def store(key, value):
        nonlocal written
        path = os.path.join(ledger, key + '.json')
        if os.path.exists(path): return
        with open(path + '.tmp', 'w') as f: json.dump({'value': value, 'measuredBy': prov}, f, sort_keys=True, separators=(',', ':'))
        os.rename(path + '.tmp', path); written += 1
    for r in o['rows']:
        if r.get('trial') is not None: continue
        c, budget = r['cell'], r['budget']
        _, _, grid = png_read(os.path.join(results, 'tokenizer/%s-recon-x%d.png' % (r['data'], budget)))
        row = 1 + variants.index(r['variant'])
        store(c['tokenizer'] + '.' + tok_suffix, {
            'seconds': c['tokenizerSeconds'], 'metrics': c['tokenizerMetrics'], 'history': c.get('history'),
            'reconstruction': [tile(grid, row, i) for i in range(8)], 'originals': [tile(grid, 0, i) for i in range(8)]})
        for g in c['generations']: store(g['model'] + '.' + gen_suffix, g)
    print('wrote %d entries to %s' % (written, ledger))

if __name__ == '__main__':
    main(*sys.argv[1:5])
