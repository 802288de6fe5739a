package kernels

import "fmt"

// mmJob is one matrix multiply split into tasks: a grid of row chunks (a
// multiple of 4 rows, the multi-row kernels' height) by token chunks (a
// multiple of 3 tokens, the micro-kernel's width). Within a task every
// group of 4 weight rows stays in L1 while it is dotted with all the task's
// tokens, and the task's activations stay in L2, so each weight byte loaded
// from memory serves a whole token chunk.
type mmJob struct {
	ks   *kernelSet
	w    *Matrix
	dst  []float32
	x    []float32
	nTok int

	xq []byte    // q8_0 and packed: activations, int8, nTok*Cols
	xd []float32 // q8_0 and packed: activation block scales, nTok*Cols/32
	xa []float32 // packed: per-block activation terms, 8 per block
	pk *packedMatrix
	// q8r16 (q8r16.go): the VNNI kernel's per-block corrections, and in
	// tile mode the block scales transposed per 16-token tile (nil when
	// the tokens go one by one).
	xc  []int32
	xdT []float32
	// bf16 tiles (amxbf16.go): the activations' A tiles and the blocks
	// of 32 columns.
	xb  []byte
	nkb int

	rowChunk, nRC int
	tokChunk, nTC int
	quantCh       int          // tokens per quantization task
	scratch       chan *[]byte // the pool's per-thread buffers (getScratch)
}

// Tiling parameters: activations of one token chunk should fit in L2
// alongside the weight rows (L2 is 512 KiB per core on Zen 3, 1-2 MiB on
// recent Intel); tasks per thread balance the load when one thread is slow.
const (
	tileActBytes   = 96 << 10
	tasksPerThread = 8
)

// MatMul computes dst[t*w.Rows+r] = W[r,:] . x[t*w.Cols:(t+1)*w.Cols] for
// every token t < nTok and row r < w.Rows across the pool's workers. For
// q8_0 weights the activations are quantized to q8_0 once (as ggml does)
// into buffers the pool keeps; scratch is accepted for compatibility with
// kernels.MatMul and is not used (it may be nil). For nTok > 1 the work is
// tiled tokens x rows so it is bound by arithmetic, not memory. It
// allocates nothing once its buffers have grown to the largest nTok*Cols
// seen. It panics with a message naming the sizes when dst or x is too
// short or w's type is not supported.
func (p *Pool) MatMul(dst []float32, w *Matrix, x []float32, nTok int, scratch []byte) {
	if err := checkMatMul(dst, w, x, nTok); err != nil {
		panic(err)
	}
	if nTok == 0 {
		return
	}
	if pk := w.pk; pk != nil && pk.f32 != nil {
		w = pk.f32 // bf16, widened at Prepare
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	ks := cur()
	m := &p.mm
	*m = mmJob{ks: ks, w: w, dst: dst, x: x, nTok: nTok, scratch: p.scratch}

	tiles := false // q8r16 with the set's tile kernel, 16 tokens at a time
	if ks.bf16 != nil && bf16Eligible(w, nTok) {
		p.prepBF16(m)
	} else if w.Type == TypeQ8_0 || w.pk != nil {
		nb := w.Cols / QK8_0
		m.pk = w.pk
		q8r16 := w.pk != nil && w.pk.kind == packQ8R16
		r4 := w.pk != nil && w.pk.kind == packR4
		r8 := w.pk != nil && (w.pk.kind == packR8 || w.pk.kind == packR8Bias)
		tiles = nTok >= tileMinTokens && (q8r16 && ks.q8r16Tile != nil || r4 && ks.r4Tile != nil || r8 && ks.r8Tile != nil)
		// The tile kernel reads whole tiles of 16 activation rows: the
		// buffers are padded to a multiple of 16 tokens (the rows past
		// nTok are read, never stored).
		nPad := nTok
		if tiles {
			nPad = (nTok + q8r16Rows - 1) / q8r16Rows * q8r16Rows
		}
		if cap(p.xq) < nPad*w.Cols {
			p.xq = make([]byte, nPad*w.Cols)
			p.xd = make([]float32, nPad*nb)
		}
		m.xq = p.xq[:nPad*w.Cols]
		m.xd = p.xd[:nTok*nb]
		switch {
		case tiles:
			n := nPad * nb // q8r16: scales; r4: scales and bias terms; r8: per half block
			if r4 {
				n *= 2
			} else if r8 {
				n *= 4
			}
			if cap(p.xdT) < n {
				p.xdT = make([]float32, n)
			}
			m.xdT = p.xdT[:n]
		case q8r16:
			if cap(p.xc) < nTok*nb {
				p.xc = make([]int32, nTok*nb)
			}
			m.xc = p.xc[:nTok*nb]
		case w.pk != nil:
			if cap(p.xa) < 8*nTok*nb {
				p.xa = make([]float32, 8*nTok*nb)
			}
			m.xa = p.xa[:8*nTok*nb]
		}
		// Quantize the activations once; split by tokens when there are
		// enough of them to be worth a second dispatch.
		if nTok >= 8 && p.threads > 1 {
			m.quantCh = (nTok + p.threads - 1) / p.threads
			p.kind = jobQuant
			p.run((nTok + m.quantCh - 1) / m.quantCh)
		} else {
			m.quantTokens(0, nTok)
		}
		switch {
		case tiles && r4:
			transposeTileTerms(m.xdT, m.xd, m.xq, nTok, nb, 32)
		case tiles && r8:
			transposeTileTerms(m.xdT, m.xd, m.xq, nTok, nb, 16)
		case tiles:
			transposeTileScales(m.xdT, m.xd, nTok, nb)
		}
	}

	// Token chunks: as many tokens as fit the activation tile, a multiple
	// of 3, balanced across the chunks.
	actBytes := w.Cols // int8 per value
	if w.Type != TypeQ8_0 && w.pk == nil {
		actBytes = 4 * w.Cols
	}
	tokStep, rowStep := 3, 4 // the micro-kernels' width and height
	if m.pk != nil && m.pk.kind == packQ8R16 || tiles {
		rowStep = q8r16Rows
		if tiles {
			tokStep = q8r16Rows
		}
	}
	tc := max(tokStep, tileActBytes/actBytes/tokStep*tokStep)
	m.nTC = (nTok + tc - 1) / tc
	m.tokChunk = (nTok + m.nTC - 1) / m.nTC
	if m.nTC > 1 {
		m.tokChunk = (m.tokChunk + tokStep - 1) / tokStep * tokStep
		m.nTC = (nTok + m.tokChunk - 1) / m.tokChunk
	}
	// Row chunks: a multiple of the kernels' height, enough of them for
	// tasksPerThread tasks per thread overall.
	wantRC := max(1, (tasksPerThread*p.threads+m.nTC-1)/m.nTC)
	rc := (w.Rows + wantRC - 1) / wantRC
	m.rowChunk = max(rowStep, (rc+rowStep-1)/rowStep*rowStep)
	m.nRC = (w.Rows + m.rowChunk - 1) / m.rowChunk
	if m.xb != nil {
		m.bf16Grid(p.threads) // bf16 tiles: whole 32-row groups, one token chunk
	}

	p.kind = jobMatMul
	p.run(m.nRC * m.nTC)
	*m = mmJob{}
}

// checkMatMul validates the operands of a matrix multiply.
func checkMatMul(dst []float32, w *Matrix, x []float32, nTok int) error {
	switch {
	case w == nil:
		return fmt.Errorf("kernels: MatMul: nil matrix")
	case nTok < 0:
		return fmt.Errorf("kernels: MatMul: negative token count %d", nTok)
	case !IsSupported(w.Type):
		return fmt.Errorf("kernels: MatMul on unsupported type %v", w.Type)
	case w.Rows <= 0 || w.Cols <= 0:
		return fmt.Errorf("kernels: MatMul: %dx%d matrix: dimensions must be positive", w.Rows, w.Cols)
	}
	rb, err := RowBytes(w.Type, w.Cols)
	if err != nil {
		return fmt.Errorf("kernels: MatMul: %dx%d matrix: %w", w.Rows, w.Cols, err)
	}
	if rb != w.RowBytes {
		return fmt.Errorf("kernels: MatMul: %dx%d %v matrix has RowBytes %d, want %d", w.Rows, w.Cols, w.Type, w.RowBytes, rb)
	}
	switch {
	case len(w.Data) < w.Rows*w.RowBytes:
		return fmt.Errorf("kernels: MatMul: %dx%d %v matrix has %d bytes, want %d", w.Rows, w.Cols, w.Type, len(w.Data), w.Rows*w.RowBytes)
	case len(x) < nTok*w.Cols:
		return fmt.Errorf("kernels: MatMul: x has %d values, want %d (%d tokens x %d cols)", len(x), nTok*w.Cols, nTok, w.Cols)
	case len(dst) < nTok*w.Rows:
		return fmt.Errorf("kernels: MatMul: dst has %d values, want %d (%d tokens x %d rows)", len(dst), nTok*w.Rows, nTok, w.Rows)
	}
	if err := w.Prepare(); err != nil {
		return fmt.Errorf("kernels: MatMul: %dx%d %v matrix: %w", w.Rows, w.Cols, w.Type, err)
	}
	return nil
}

// quantTask quantizes the activations of token chunk i.
func (m *mmJob) quantTask(i int) {
	t0 := i * m.quantCh
	m.quantTokens(t0, min(t0+m.quantCh, m.nTok))
}

// quantTokens quantizes the activations of tokens [t0, t1) to split q8_0
// (and fills the packed kernels' per-block terms).
func (m *mmJob) quantTokens(t0, t1 int) {
	if m.xb != nil {
		m.splitBF16Tokens(t0, t1)
		return
	}
	cols := m.w.Cols
	nb := cols / QK8_0
	m.ks.quantSplit(m.xq[t0*cols:t1*cols], m.xd[t0*nb:t1*nb], m.x[t0*cols:t1*cols])
	switch {
	case m.xc != nil:
		for t := t0; t < t1; t++ {
			q8r16Correction(m.xc[t*nb:(t+1)*nb], m.xq[t*cols:(t+1)*cols])
		}
	case m.xa != nil:
		for t := t0; t < t1; t++ {
			packedAct(m.pk.kind, m.xa[8*t*nb:8*(t+1)*nb], m.xq[t*cols:(t+1)*cols], m.xd[t*nb:(t+1)*nb])
		}
	}
}

// task computes tile i: token chunk i/nRC, row chunk i%nRC.
func (m *mmJob) task(i int) {
	tc, rc := i/m.nRC, i%m.nRC
	r0 := rc * m.rowChunk
	r1 := min(r0+m.rowChunk, m.w.Rows)
	t0 := tc * m.tokChunk
	t1 := min(t0+m.tokChunk, m.nTok)
	if m.xb != nil {
		m.tileBF16(r0, r1, t0, t1)
		return
	}
	if m.pk != nil {
		switch {
		case m.pk.kind == packQ8R16:
			m.tileQ8R16(r0, r1, t0, t1)
		case m.xdT != nil:
			m.tileConv(r0, r1, t0, t1)
		default:
			m.tilePacked(r0, r1, t0, t1)
		}
		return
	}
	switch m.w.Type {
	case TypeQ8_0:
		m.tileQ8(r0, r1, t0, t1)
	case TypeF16:
		m.tileF(r0, r1, t0, t1, m.ks.f16x4, m.ks.f16x4x3)
	case TypeF32:
		m.tileF(r0, r1, t0, t1, m.ks.f32x4, m.ks.f32x4x3)
	}
}

func (m *mmJob) tileQ8(r0, r1, t0, t1 int) {
	w, ks := m.w, m.ks
	cols, rows, ldw := w.Cols, w.Rows, w.RowBytes
	nb := cols / QK8_0
	r := r0
	for ; r+4 <= r1; r += 4 {
		wr := w.Data[r*ldw:]
		t := t0
		for ; t+3 <= t1; t += 3 {
			ks.q8x4x3(wr, ldw, m.xq[t*cols:], cols, m.xd[t*nb:], nb, nb, m.dst[t*rows+r:], rows)
		}
		for ; t < t1; t++ {
			ks.q8x4(wr, ldw, m.xq[t*cols:], m.xd[t*nb:], nb, m.dst[t*rows+r:])
		}
	}
	for ; r < r1; r++ {
		for t := t0; t < t1; t++ {
			m.dst[t*rows+r] = q8x1Generic(w.Row(r), m.xq[t*cols:], m.xd[t*nb:], nb)
		}
	}
}

// tilePacked computes rows [r0, r1) (r0 a multiple of 4) for tokens
// [t0, t1) from the packed groups; a last group of fewer than four rows
// goes through a scratch row.
func (m *mmJob) tilePacked(r0, r1, t0, t1 int) {
	pk, ks := m.pk, m.ks
	cols, rows, nb := m.w.Cols, m.w.Rows, pk.nb
	gb := nb * pk.stride
	var tmp []float32 // the padded last group's four results
	for r := r0; r < r1; r += 4 {
		g := pk.data[r/4*gb : (r/4+1)*gb]
		if r+4 > rows && tmp == nil {
			tmp = make([]float32, 4) // rows not a multiple of 4: rare, allocates
		}
		t := t0
		if pk.kind == packR4 && ks.r4x4x3 != nil && r+4 <= rows {
			for ; t+3 <= t1; t += 3 {
				ks.r4x4x3(g, m.xq[t*cols:], cols, m.xa[8*t*nb:], 8*nb, nb, m.dst[t*rows+r:], rows)
			}
		} else if pk.kind != packR4 && ks.r8x4x3 != nil && r+4 <= rows {
			for ; t+3 <= t1; t += 3 {
				ks.r8x4x3(g, pk.stride, m.xq[t*cols:], cols, m.xd[t*nb:], nb, m.xa[8*t*nb:], 8*nb, nb, m.dst[t*rows+r:], rows)
			}
		}
		for ; t < t1; t++ {
			out := tmp
			if r+4 <= rows {
				out = m.dst[t*rows+r : t*rows+r+4]
			}
			xq, xa := m.xq[t*cols:(t+1)*cols], m.xa[8*t*nb:8*(t+1)*nb]
			if pk.kind == packR4 {
				ks.r4x4(g, xq, xa, nb, out)
			} else {
				ks.r8x4(g, pk.stride, xq, m.xd[t*nb:(t+1)*nb], xa, nb, out)
			}
			if r+4 > rows {
				copy(m.dst[t*rows+r:t*rows+rows], out)
			}
		}
	}
}

func (m *mmJob) tileF(r0, r1, t0, t1 int,
	x4 func(w []byte, ldw int, x []float32, n int, out []float32),
	x4x3 func(w []byte, ldw int, x []float32, ldx, n int, c []float32, ldc int)) {
	w, ks := m.w, m.ks
	cols, rows, ldw := w.Cols, w.Rows, w.RowBytes
	r := r0
	for ; r+4 <= r1; r += 4 {
		wr := w.Data[r*ldw:]
		t := t0
		for ; t+3 <= t1; t += 3 {
			x4x3(wr, ldw, m.x[t*cols:], cols, cols, m.dst[t*rows+r:], rows)
		}
		for ; t < t1; t++ {
			x4(wr, ldw, m.x[t*cols:], cols, m.dst[t*rows+r:])
		}
	}
	for ; r < r1; r++ {
		row := w.Row(r)
		for t := t0; t < t1; t++ {
			xt := m.x[t*cols : (t+1)*cols]
			if w.Type == TypeF16 {
				m.dst[t*rows+r] = ks.dotF16(row, xt)
			} else {
				m.dst[t*rows+r] = ks.dotF32(bytesAsF32(row), xt)
			}
		}
	}
}

// getScratch takes one of the pool's per-thread buffers, grown to at least
// n bytes; putScratch gives it back.
func (m *mmJob) getScratch(n int) *[]byte {
	b := <-m.scratch
	if cap(*b) < n {
		*b = make([]byte, n)
	}
	return b
}

func (m *mmJob) putScratch(b *[]byte) { m.scratch <- b }
