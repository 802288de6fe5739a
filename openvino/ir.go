package openvino

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// This file writes OpenVINO IR (version 11): an .xml topology of layers and
// edges, and a .bin file holding every constant. Only what the IR reader
// needs is written: for each layer its type, opset version and attributes,
// its port ids (inputs numbered first, then outputs) and, on Parameters, the
// shape and element type. The reader infers every other shape itself.

// elemType is an IR element type name ("f32", "f16", "i8", "i64", "u4").
type elemType string

const (
	tF32  elemType = "f32"
	tF16  elemType = "f16"
	tI8   elemType = "i8"
	tI64  elemType = "i64"
	tI32  elemType = "i32"
	tU8   elemType = "u8"
	tU4   elemType = "u4"
	tBool elemType = "boolean"
)

// precision is the port attribute spelling of an element type.
func (e elemType) precision() string {
	switch e {
	case tF32:
		return "FP32"
	case tF16:
		return "FP16"
	case tBool:
		return "BOOL"
	}
	return strings.ToUpper(string(e))
}

// value is one output port of a layer.
type value struct {
	layer int
	port  int
}

type irAttr struct{ k, v string }

type irLayer struct {
	id      int
	name    string
	typ     string
	version string
	attrs   []irAttr
	nIn     int
	nOut    int
	names   []string // tensor names of output port 0 (parameters, results' producers)
	pshape  string   // Parameter only
	petype  elemType // Parameter only
	inTypes []elemType
	otype   elemType // element type of every output port
}

type irEdge struct{ fromLayer, fromPort, toLayer, toPort int }

// irGraph builds an IR. Constants are streamed to the .bin writer as they
// are added, so a large model never sits in memory twice.
type irGraph struct {
	name   string
	layers []*irLayer
	edges  []irEdge
	bin    *bufio.Writer
	off    int64
	err    error
}

func newGraph(name string, bin io.Writer) *irGraph {
	return &irGraph{name: name, bin: bufio.NewWriterSize(bin, 1<<20)}
}

func (g *irGraph) add(typ, version string, attrs []irAttr, nOut int, inputs ...value) *irLayer {
	l := &irLayer{id: len(g.layers), typ: typ, version: version, attrs: attrs, nIn: len(inputs), nOut: nOut}
	l.name = fmt.Sprintf("%s_%d", typ, l.id)
	for i, in := range inputs {
		g.edges = append(g.edges, irEdge{in.layer, in.port, l.id, i})
		l.inTypes = append(l.inTypes, g.layers[in.layer].otype)
	}
	if len(inputs) > 0 {
		l.otype = l.inTypes[0]
	}
	for _, a := range attrs {
		switch a.k {
		case "destination_type", "output_type", "element_type", "variable_type":
			l.otype = elemType(a.v)
		}
	}
	switch typ {
	case "Greater", "Less", "Equal", "LogicalOr":
		l.otype = tBool
	case "Select":
		l.otype = l.inTypes[1]
	}
	g.layers = append(g.layers, l)
	return l
}

// out returns output port i of l.
func out(l *irLayer, i int) value { return value{l.id, l.nIn + i} }

// op adds a single-output operation.
func (g *irGraph) op(typ, version string, attrs []irAttr, inputs ...value) value {
	return out(g.add(typ, version, attrs, 1, inputs...), 0)
}

// param adds a model input with the given tensor name, element type and
// shape ("?" for a dynamic dimension).
func (g *irGraph) param(name string, et elemType, shape string) value {
	l := g.add("Parameter", "opset1", nil, 1)
	l.name, l.names, l.pshape, l.petype, l.otype = name, []string{name}, shape, et, et
	return out(l, 0)
}

// result marks v as a model output named name.
func (g *irGraph) result(name string, v value) {
	g.layers[v.layer].names = append(g.layers[v.layer].names, name)
	l := g.add("Result", "opset1", nil, 0, v)
	l.name = name
}

// constant adds a Const whose bytes are data (already in the element type's
// little-endian layout).
func (g *irGraph) constant(et elemType, shape []int64, data []byte) value {
	if g.err == nil {
		// Align every constant to 64 bytes so the runtime can use the mapped
		// weights in place.
		if pad := (64 - g.off%64) % 64; pad > 0 {
			_, g.err = g.bin.Write(make([]byte, pad))
			g.off += pad
		}
	}
	off := g.off
	if g.err == nil {
		_, g.err = g.bin.Write(data)
	}
	g.off += int64(len(data))
	return g.op("Const", "opset1", []irAttr{
		{"element_type", string(et)}, {"shape", joinInts(shape)},
		{"offset", strconv.FormatInt(off, 10)}, {"size", strconv.Itoa(len(data))}})
}

func (g *irGraph) constI64(vals ...int64) value {
	b := make([]byte, 8*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
	}
	return g.constant(tI64, []int64{int64(len(vals))}, b)
}

func (g *irGraph) scalarI64(v int64) value {
	b := make([]byte, 8)
	binary.LittleEndian.PutUint64(b, uint64(v))
	return g.constant(tI64, nil, b)
}

func (g *irGraph) scalarF32(v float32) value {
	b := make([]byte, 4)
	binary.LittleEndian.PutUint32(b, math.Float32bits(v))
	return g.constant(tF32, nil, b)
}

func (g *irGraph) constF32(shape []int64, vals []float32) value {
	b := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return g.constant(tF32, shape, b)
}

// Operation helpers (opset names and versions as the IR reader expects).

func (g *irGraph) add2(a, b value) value {
	return g.op("Add", "opset1", []irAttr{{"auto_broadcast", "numpy"}}, a, b)
}
func (g *irGraph) sub(a, b value) value {
	return g.op("Subtract", "opset1", []irAttr{{"auto_broadcast", "numpy"}}, a, b)
}
func (g *irGraph) mul(a, b value) value {
	return g.op("Multiply", "opset1", []irAttr{{"auto_broadcast", "numpy"}}, a, b)
}
func (g *irGraph) div(a, b value) value {
	return g.op("Divide", "opset1", []irAttr{{"auto_broadcast", "numpy"}, {"m_pythondiv", "true"}}, a, b)
}
func (g *irGraph) convert(a value, to elemType) value {
	return g.op("Convert", "opset1", []irAttr{{"destination_type", string(to)}}, a)
}
func (g *irGraph) reshape(a value, shape ...int64) value {
	return g.op("Reshape", "opset1", []irAttr{{"special_zero", "false"}}, a, g.constI64(shape...))
}

// reshapeZ reshapes with special_zero: a 0 in shape copies that input
// dimension (the batch and token counts of a [B, T, ...] value).
func (g *irGraph) reshapeZ(a value, shape ...int64) value {
	return g.op("Reshape", "opset1", []irAttr{{"special_zero", "true"}}, a, g.constI64(shape...))
}
func (g *irGraph) transpose(a value, perm ...int64) value {
	return g.op("Transpose", "opset1", nil, a, g.constI64(perm...))
}
func (g *irGraph) unsqueeze(a value, axis int64) value {
	return g.op("Unsqueeze", "opset1", nil, a, g.constI64(axis))
}
func (g *irGraph) matmul(a, b value, transB bool) value {
	return g.op("MatMul", "opset1", []irAttr{{"transpose_a", "false"}, {"transpose_b", strconv.FormatBool(transB)}}, a, b)
}
func (g *irGraph) gather(data, indices value, axis int64) value {
	return g.op("Gather", "opset8", []irAttr{{"batch_dims", "0"}}, data, indices, g.scalarI64(axis))
}
func (g *irGraph) concat(axis int64, vs ...value) value {
	return g.op("Concat", "opset1", []irAttr{{"axis", strconv.FormatInt(axis, 10)}}, vs...)
}

// readValue reads the variable id (ReadValue, opset6), of element type et
// and partial shape shape, starting from init (an empty constant: the
// cache of a new request holds no position).
func (g *irGraph) readValue(id string, et elemType, shape string, init value) value {
	return g.op("ReadValue", "opset6", []irAttr{{"variable_id", id}, {"variable_type", string(et)}, {"variable_shape", shape}}, init)
}

// assign stores v into the variable id (Assign, opset6): the request's
// state after the inference. It has no consumer; the IR reader makes it
// one of the model's sinks.
func (g *irGraph) assign(id string, v value) {
	g.add("Assign", "opset6", []irAttr{{"variable_id", id}}, 1, v)
}

// writeXML writes the topology.
func (g *irGraph) writeXML(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "<?xml version=\"1.0\"?>\n<net name=\"%s\" version=\"11\">\n\t<layers>\n", xmlEsc(g.name))
	for _, l := range g.layers {
		fmt.Fprintf(bw, "\t\t<layer id=\"%d\" name=\"%s\" type=\"%s\" version=\"%s\">\n", l.id, xmlEsc(l.name), l.typ, l.version)
		attrs := l.attrs
		if l.typ == "Parameter" {
			attrs = []irAttr{{"shape", l.pshape}, {"element_type", string(l.petype)}}
		}
		if len(attrs) > 0 {
			bw.WriteString("\t\t\t<data")
			for _, a := range attrs {
				fmt.Fprintf(bw, " %s=\"%s\"", a.k, xmlEsc(a.v))
			}
			bw.WriteString("/>\n")
		}
		if l.nIn > 0 {
			bw.WriteString("\t\t\t<input>\n")
			for i := 0; i < l.nIn; i++ {
				fmt.Fprintf(bw, "\t\t\t\t<port id=\"%d\" precision=\"%s\"/>\n", i, l.inTypes[i].precision())
			}
			bw.WriteString("\t\t\t</input>\n")
		}
		if l.nOut > 0 {
			bw.WriteString("\t\t\t<output>\n")
			for i := 0; i < l.nOut; i++ {
				if i == 0 && len(l.names) > 0 {
					fmt.Fprintf(bw, "\t\t\t\t<port id=\"%d\" precision=\"%s\" names=\"%s\"/>\n", l.nIn+i, l.otype.precision(), xmlEsc(strings.Join(l.names, ",")))
				} else {
					fmt.Fprintf(bw, "\t\t\t\t<port id=\"%d\" precision=\"%s\"/>\n", l.nIn+i, l.otype.precision())
				}
			}
			bw.WriteString("\t\t\t</output>\n")
		}
		bw.WriteString("\t\t</layer>\n")
	}
	bw.WriteString("\t</layers>\n\t<edges>\n")
	for _, e := range g.edges {
		fmt.Fprintf(bw, "\t\t<edge from-layer=\"%d\" from-port=\"%d\" to-layer=\"%d\" to-port=\"%d\"/>\n",
			e.fromLayer, e.fromPort, e.toLayer, e.toPort)
	}
	bw.WriteString("\t</edges>\n</net>\n")
	return bw.Flush()
}

// finish flushes the constants and writes the topology to xmlW.
func (g *irGraph) finish(xmlW io.Writer) error {
	if g.err != nil {
		return g.err
	}
	if err := g.bin.Flush(); err != nil {
		return err
	}
	return g.writeXML(xmlW)
}

func joinInts(v []int64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatInt(x, 10)
	}
	return strings.Join(s, ",")
}

func xmlEsc(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\"", "&quot;", "'", "&apos;")
	return r.Replace(s)
}

// errCreateTemp marks a writeFileAtomic error that happened before
// anything was written: the folder does not take a new file.
var errCreateTemp = errors.New("cannot create a temporary file")

// writeFileAtomic writes via a temporary file in the same directory and
// renames it into place, so a reader never sees a half-written file.
func writeFileAtomic(path string, fill func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("%w in %s: %w", errCreateTemp, filepath.Dir(path), err)
	}
	name := tmp.Name()
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		os.Remove(name)
		return err
	}
	if err := fill(tmp); err != nil {
		tmp.Close()
		os.Remove(name)
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(name)
		return err
	}
	if err := os.Rename(name, path); err != nil {
		os.Remove(name)
		return err
	}
	return nil
}
