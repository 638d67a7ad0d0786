// hcl-peer prints what HashiCorp's HCL1 parser (github.com/hashicorp/hcl 1.0.0, the library Vault Agent and Vault
// Proxy parse their configuration with) makes of its inputs, as one canonical JSON line per input. The differential
// tests in tests/Gatehouse.Hcl.Tests/Differential write Gatehouse.Hcl's tree in the same form and compare.
//
// It parses the way Vault does: hcl.ParseBytes (JSON when the first non-space character is '{', HCL otherwise), then
// the literals' values the way Vault's decoding reads them (token.Value()).
//
// Input, on stdin, any number of records: a header line "<name>\t<byte count>\n", then exactly that many bytes.
// Output, on stdout, one line per record, in order:
//
//	{"name":N,"mode":"hcl"|"json","ok":true,"tree":[ITEM...]}
//	{"name":N,"mode":M,"ok":false,"stage":"parse"|"value","error":MSG,"line":L,"col":C,"first":{"line":L,"col":C,"error":MSG}}
//
// JSON-mode lines also carry "json_valid", encoding/json's verdict on the input.
//
// ITEM  = {"keys":[KEY...],"assign":BOOL,"pos":"L:C","value":VALUE}   (no "pos" in JSON mode: Go keeps none there)
// KEY   = {"name":STRING,"quoted":BOOL,"pos":"L:C"}
// VALUE = {"object":[ITEM...],"pos":..} | {"list":[VALUE...],"pos":..} | {"string":S,"pos":..}
//
//	| {"bytes":HEX,"pos":..} (a string that is not valid UTF-8) | {"int":"DIGITS","pos":..}
//	| {"float":"d.ddde±XX","pos":..} (shortest round-trip digits) | {"bool":BOOL,"pos":..}
//
// Columns count runes (Go's scanner), lines count "\n" after Go's own "\r\n" to "\n" normalisation. "first" is the
// first error the scanner met, when Go reports a later one (Go's parser keeps only the last scanner error).
//
// Built offline against Debian's golang-github-hashicorp-hcl-dev by build.sh (GOPATH mode, no module downloads).
package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl"
	"github.com/hashicorp/hcl/hcl/ast"
	hclparser "github.com/hashicorp/hcl/hcl/parser"
	hclscanner "github.com/hashicorp/hcl/hcl/scanner"
	"github.com/hashicorp/hcl/hcl/token"
	jsonscanner "github.com/hashicorp/hcl/json/scanner"
	jsontoken "github.com/hashicorp/hcl/json/token"
)

type errorAt struct {
	Line  int    `json:"line"`
	Col   int    `json:"col"`
	Error string `json:"error"`
}

type result struct {
	Name  string        `json:"name"`
	Mode  string        `json:"mode"`
	OK    bool          `json:"ok"`
	Tree  []interface{} `json:"tree,omitempty"`
	Stage string        `json:"stage,omitempty"`
	Error string        `json:"error,omitempty"`
	Line  int           `json:"line,omitempty"`
	Col   int           `json:"col,omitempty"`
	First *errorAt      `json:"first,omitempty"`

	// JSONValid is encoding/json's verdict on a JSON-mode input: hcl's own JSON parser accepts much that is not JSON.
	JSONValid *bool `json:"json_valid,omitempty"`
}

// valueError is raised (by panic, as token.Value() itself does) when a literal cannot be decoded.
type valueError struct {
	pos token.Pos
	msg string
}

func main() {
	in := bufio.NewReader(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for {
		header, err := in.ReadString('\n')
		if err == io.EOF && header == "" {
			return
		}
		if err != nil {
			fatal("reading a header: %v", err)
		}
		tab := strings.LastIndexByte(header, '\t')
		if tab < 0 {
			fatal("bad header %q", header)
		}
		size, err := strconv.Atoi(strings.TrimSpace(header[tab+1:]))
		if err != nil || size < 0 {
			fatal("bad header %q", header)
		}
		src := make([]byte, size)
		if _, err := io.ReadFull(in, src); err != nil {
			fatal("reading %d bytes: %v", size, err)
		}
		if err := enc.Encode(run(header[:tab], src)); err != nil {
			fatal("writing: %v", err)
		}
	}
}

func fatal(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "hcl-peer: "+format+"\n", args...)
	os.Exit(2)
}

func run(name string, src []byte) (r result) {
	r.Name = name
	r.Mode = "hcl"
	if isJSON(src) {
		r.Mode = "json"
		valid := json.Valid(src)
		r.JSONValid = &valid
	}

	defer func() {
		if p := recover(); p != nil {
			r.OK, r.Tree = false, nil
			if v, ok := p.(valueError); ok {
				r.Stage, r.Error, r.Line, r.Col = "value", v.msg, v.pos.Line, v.pos.Column
				return
			}
			r.Stage, r.Error = "panic", fmt.Sprint(p)
		}
	}()

	file, err := hcl.ParseBytes(src)
	if err != nil {
		r.Stage, r.Error = "parse", err.Error()
		r.Line, r.Col = errorPosition(err)
		if first := firstScanError(src, r.Mode); first != nil && (r.Line == 0 || before(first, r.Line, r.Col)) {
			r.First = first
		}
		return r
	}

	list, ok := file.Node.(*ast.ObjectList)
	if !ok {
		panic(fmt.Sprintf("root is %T", file.Node))
	}
	r.OK = true
	r.Tree = items(list, r.Mode == "hcl")
	if r.Tree == nil {
		r.Tree = []interface{}{}
	}
	return r
}

// isJSON is hcl's own lexMode: JSON when the first non-space rune is '{'.
func isJSON(src []byte) bool {
	for len(src) > 0 {
		r, w := utf8.DecodeRune(src)
		src = src[w:]
		if unicode.IsSpace(r) {
			continue
		}
		return r == '{'
	}
	return false
}

var positionPrefix = regexp.MustCompile(`^(?:At )?(\d+):(\d+): `)

func errorPosition(err error) (int, int) {
	var pe *hclparser.PosError
	if errors.As(err, &pe) {
		return pe.Pos.Line, pe.Pos.Column
	}
	if m := positionPrefix.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		col, _ := strconv.Atoi(m[2])
		return line, col
	}
	return 0, 0
}

func before(e *errorAt, line, col int) bool {
	return e.Line < line || (e.Line == line && e.Col < col)
}

// firstScanError scans the whole input with the scanner the parser uses and returns its first error.
func firstScanError(src []byte, mode string) *errorAt {
	var first *errorAt
	if mode == "json" {
		s := jsonscanner.New(src)
		s.Error = func(pos jsontoken.Pos, msg string) {
			if first == nil {
				first = &errorAt{pos.Line, pos.Column, msg}
			}
		}
		for i := 0; i <= len(src)+1 && s.Scan().Type != jsontoken.EOF; i++ {
		}
		return first
	}

	s := hclscanner.New(bytes.Replace(src, []byte("\r\n"), []byte("\n"), -1))
	s.Error = func(pos token.Pos, msg string) {
		if first == nil {
			first = &errorAt{pos.Line, pos.Column, msg}
		}
	}
	for i := 0; i <= len(src)+1 && s.Scan().Type != token.EOF; i++ {
	}
	return first
}

func items(list *ast.ObjectList, positions bool) []interface{} {
	var out []interface{}
	for _, item := range list.Items {
		keys := make([]interface{}, 0, len(item.Keys))
		for _, k := range item.Keys {
			key := map[string]interface{}{
				"name":   decode(k.Token),
				"quoted": k.Token.Type == token.STRING,
			}
			if positions {
				key["pos"] = pos(k.Token.Pos)
			}
			keys = append(keys, key)
		}
		entry := map[string]interface{}{
			"keys":   keys,
			"assign": item.Assign.IsValid(),
			"value":  value(item.Val, positions),
		}
		if positions {
			entry["pos"] = pos(item.Pos())
		}
		out = append(out, entry)
	}
	if out == nil {
		out = []interface{}{}
	}
	return out
}

func value(node ast.Node, positions bool) map[string]interface{} {
	v := map[string]interface{}{}
	switch n := node.(type) {
	case *ast.ObjectType:
		v["object"] = items(n.List, positions)
		if positions {
			v["pos"] = pos(n.Lbrace)
		}
	case *ast.ListType:
		elements := make([]interface{}, 0, len(n.List))
		for _, e := range n.List {
			elements = append(elements, value(e, positions))
		}
		v["list"] = elements
		if positions {
			v["pos"] = pos(n.Lbrack)
		}
	case *ast.LiteralType:
		literal(v, n.Token)
		if positions {
			v["pos"] = pos(n.Token.Pos)
		}
	default:
		panic(fmt.Sprintf("unexpected node %T", node))
	}
	return v
}

// decode reads a token the way Vault's decoding does, through token.Value(), which panics on a bad literal.
func decode(t token.Token) interface{} {
	defer func() {
		if p := recover(); p != nil {
			panic(valueError{t.Pos, fmt.Sprintf("%s literal %s: %v", t.Type, t.Text, p)})
		}
	}()
	return t.Value()
}

func literal(v map[string]interface{}, t token.Token) {
	switch x := decode(t).(type) {
	case string:
		if utf8.ValidString(x) {
			v["string"] = x
		} else {
			v["bytes"] = hex.EncodeToString([]byte(x))
		}
	case int64:
		v["int"] = strconv.FormatInt(x, 10)
	case float64:
		v["float"] = strconv.FormatFloat(x, 'e', -1, 64)
	case bool:
		v["bool"] = x
	default:
		panic(fmt.Sprintf("unexpected literal %T", x))
	}
}

func pos(p token.Pos) string {
	return fmt.Sprintf("%d:%d", p.Line, p.Column)
}
