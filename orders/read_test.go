package orders

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/feedsync/feedsync/feed"
)

func TestRead(t *testing.T) {
	t.Run("RowsWithTheSameOrderIDAreOneOrder", func(t *testing.T) {
		deals, probs := readPath(t, "testdata/woocommerce.csv", wooConfig())
		noProblems(t, probs)
		if got, want := ids(deals), "1040 1041 1042 1043 1044 1045 1046"; got != want {
			t.Fatalf("deals %s, want %s (first-row order)", got, want)
		}
		d := byID(deals)["1040"]
		if d.Line != 2 || fmt.Sprint(d.Products) != "[TEE-RED-S TEE-BLUE-M]" {
			t.Errorf("1040: line %d products %v, want line 2 [TEE-RED-S TEE-BLUE-M]", d.Line, d.Products)
		}
		want := []Line{{"TEE-RED-S", "1", "19.90"}, {"TEE-BLUE-M", "1", "17.50"}}
		if fmt.Sprint(d.Order.Lines) != fmt.Sprint(want) {
			t.Errorf("1040 lines %v, want %v", d.Order.Lines, want)
		}
		o := d.Order
		if o.ID != "1040" || o.Status != "completed" || o.Email != "Jane.Doe@Example.com" || o.CustomerID != "17" ||
			o.Total != "37.40" || o.Currency != "EUR" || o.Placed != "2026-11-20 10:12" {
			t.Errorf("1040's order fields: %+v", o)
		}
		// Rows of one order need not be adjacent.
		text := "Order Number,Order Status,Billing Email,SKU\n7,completed,a@example.com,A\n8,completed,b@example.com,B\n7,,,C\n"
		deals, probs = readText(t, "apart.csv", text, Config{Columns: Columns{OrderID: "Order Number", Status: "Order Status",
			Email: "Billing Email", LineProduct: "SKU"}, Stages: Stages{Preset: "woocommerce"}})
		noProblems(t, probs)
		if ids(deals) != "7 8" || fmt.Sprint(byID(deals)["7"].Products) != "[A C]" {
			t.Errorf("rows apart: %s %v", ids(deals), byID(deals)["7"].Products)
		}
	})

	t.Run("ShopifyOrderFieldsFromTheFirstRowThatHasThem", func(t *testing.T) {
		deals, probs := readPath(t, "testdata/shopify.csv", shopifyConfig())
		noProblems(t, probs)
		if got, want := ids(deals), "#1001 #1002 #1003 #1004 #1005"; got != want {
			t.Fatalf("deals %s, want %s", got, want)
		}
		m := byID(deals)
		d := m["#1001"]
		if d.Order.Status != "paid/fulfilled" || d.Order.Total != "42.30" || d.Order.Currency != "EUR" ||
			fmt.Sprint(d.Products) != "[TEE-RED-S TEE-BLUE-M]" {
			t.Errorf("#1001: %+v %v", d.Order, d.Products)
		}
		if got := d.Order.Attrs["notes"]; got != "Leave it at the door,\nplease" {
			t.Errorf("a quoted field with a comma and a CRLF inside: %q", got)
		}
		if d.Order.Attrs["shipping_method"] != "Standard" {
			t.Errorf("attrs %v", d.Order.Attrs)
		}
		// The row after the quoted newline is on line 4 of the file.
		if m["#1002"].Line != 5 {
			t.Errorf("#1002 on line %d, want 5 (line 2's row spans two lines)", m["#1002"].Line)
		}
		for id, want := range map[string]string{"#1001": "fulfilled", "#1002": "placed", "#1003": "cancelled", "#1004": "placed", "#1005": "fulfilled"} {
			st, ok := shopifyConfig().Stages.Of(m[id].Order.Status)
			if !ok || st.Name != want {
				t.Errorf("%s (%q): stage %q %v, want %s", id, m[id].Order.Status, st.Name, ok, want)
			}
		}
		if m["#1004"].Order.Status != "Paid/" {
			t.Errorf("#1004 with no fulfillment status: %q, want \"Paid/\"", m["#1004"].Order.Status)
		}
	})

	t.Run("MagentoSemicolonsAndCommaDecimals", func(t *testing.T) {
		cfg := Config{Columns: Columns{OrderID: "increment_id", Status: "status", Email: "customer_email", CustomerID: "customer_id",
			Total: "grand_total", Currency: "order_currency_code", Placed: "created_at", Updated: "updated_at",
			LineProduct: "sku", LineQuantity: "qty_ordered", LineValue: "row_total"}, Stages: Stages{Preset: "magento"}}
		deals, probs := readPath(t, "testdata/magento.csv", cfg)
		noProblems(t, probs)
		if len(deals) != 7 {
			t.Fatalf("%d deals, want 7", len(deals))
		}
		d := deals[0]
		if d.Order.Total != "1234.50" || fmt.Sprint(d.Order.Lines) != "[{SOFA-1 1.0000 1234.50}]" || d.Order.Updated != "2026-11-22 09:00:00" {
			t.Errorf("100000001: %+v", d.Order)
		}
	})

	t.Run("UnknownStatusIsAProblemNamingTheRowAndStatus", func(t *testing.T) {
		text := "Order Number,Order Status,Billing Email,SKU\n1,completed,a@example.com,A\n2,Awaiting-Goat,b@example.com,B\n2,,,C\n3,processing,c@example.com,C\n"
		deals, probs := readText(t, "goat.csv", text, Config{Columns: Columns{OrderID: "Order Number", Status: "Order Status",
			Email: "Billing Email", LineProduct: "SKU"}, Stages: Stages{Preset: "woocommerce"}})
		if ids(deals) != "1 3" {
			t.Errorf("deals %s, want 1 3", ids(deals))
		}
		if len(probs) != 1 || feed.SkippedItems(probs) != 1 {
			t.Fatalf("problems %v, want one skipped order", probs)
		}
		p := probs[0]
		for _, s := range []string{"goat.csv", `"Awaiting-Goat"`, "completed", "on-hold", "never guessed"} {
			if !strings.Contains(p.Msg, s) {
				t.Errorf("the problem %q does not name %s", p.Msg, s)
			}
		}
		if p.Line != 3 || p.ItemID != "2" || p.Kind != feed.ProblemSkippedItem {
			t.Errorf("problem %+v, want line 3, order 2, skipped", p)
		}
	})

	t.Run("StatusMatchingIsCaseInsensitiveAndTrimmed", func(t *testing.T) {
		text := "id,status,email,sku\n1,  COMPLETED ,a@example.com,A\n2,On-Hold,a@example.com,A\n"
		deals, probs := readText(t, "case.csv", text, Config{Columns: Columns{OrderID: "ID", Status: " Status ", Email: "EMAIL", LineProduct: "sku"},
			Stages: Stages{Preset: "WooCommerce"}})
		noProblems(t, probs)
		if len(deals) != 2 || deals[0].Order.Status != "COMPLETED" {
			t.Errorf("deals %+v", deals)
		}
	})

	t.Run("OverridesViaStatusesAndStages", func(t *testing.T) {
		text := "id,status,email,sku\n1,awaiting-goat,a@example.com,A\n2,completed,a@example.com,A\n"
		cfg := Config{Columns: Columns{OrderID: "id", Status: "status", Email: "email", LineProduct: "sku"},
			Stages: Stages{Preset: "woocommerce", Statuses: map[string]string{"Awaiting-Goat": "placed", "completed": "shipped"},
				Stages: map[string]Stage{"shipped": {ID: 44, Status: DealWon}, "placed": {ID: 11, Status: StatusUnset}}, PipelineID: 3}}
		deals, probs := readText(t, "over.csv", text, cfg)
		noProblems(t, probs)
		want := map[string]string{
			"1": `"pipeline":3,"stage":11,"stage_name":"placed","status":1`,
			"2": `"pipeline":3,"stage":44,"stage_name":"shipped","status":2`,
		}
		for _, d := range deals {
			p, _, err := d.Payload(cfg, nil, false)
			if err != nil || !strings.Contains(string(p), want[d.ID]) {
				t.Errorf("%s: %s %v, want %s", d.ID, p, err, want[d.ID])
			}
		}
	})

	t.Run("GuestCheckoutGetsItsUserIDFromTheEmail", func(t *testing.T) {
		sum := sha256.Sum256([]byte("guest.buyer@example.org"))
		want := hex.EncodeToString(sum[:])
		for _, rule := range []UserIDRule{"", UserSHA256Email, UserColumn} {
			cfg := wooConfig()
			cfg.UserID = rule
			deals, probs := readPath(t, "testdata/woocommerce.csv", cfg)
			noProblems(t, probs)
			d := byID(deals)["1041"]
			if d.Order.CustomerID != "" {
				t.Fatalf("1041 has customer id %q", d.Order.CustomerID)
			}
			p, _, err := d.Payload(cfg, nil, false)
			if err != nil || !strings.Contains(string(p), `"user_custom_id":"`+want+`"`) {
				t.Errorf("rule %q: guest 1041's payload %s %v, want user_custom_id %s", rule, p, err, want)
			}
			if rule == UserColumn {
				p, _, _ := byID(deals)["1040"].Payload(cfg, nil, false)
				if !strings.Contains(string(p), `"user_custom_id":"17"`) {
					t.Errorf("rule column: 1040's payload %s, want user_custom_id 17", p)
				}
			}
		}
	})

	t.Run("GuestWithoutEmailIsSkipped", func(t *testing.T) {
		text := "id,status,email,customer,sku\n1,completed,,,A\n2,completed,not-an-email,,A\n3,completed,,9,A\n"
		cols := Columns{OrderID: "id", Status: "status", Email: "email", CustomerID: "customer", LineProduct: "sku"}
		deals, probs := readText(t, "guest.csv", text, Config{Columns: cols, Stages: Stages{Preset: "woocommerce"}})
		if len(deals) != 0 || feed.SkippedItems(probs) != 3 {
			t.Errorf("sha256_email: deals %s, problems %v; want all three skipped", ids(deals), probs)
		}
		if p, ok := findProblem(probs, "no e-mail", `"email"`); !ok || p.Line != 2 || p.ItemID != "1" {
			t.Errorf("problems %v: want one naming order 1's missing e-mail on line 2", probs)
		}
		if p, ok := findProblem(probs, `"n***"`, "not an e-mail"); !ok || p.ItemID != "2" || strings.Contains(p.Msg, "not-an-email") {
			t.Errorf("problems %v: want one naming order 2's masked e-mail", probs)
		}
		// Under the column rule a deal without a user is sent, with a note.
		deals, probs = readText(t, "guest.csv", text, Config{Columns: cols, UserID: UserColumn, Stages: Stages{Preset: "woocommerce"}})
		if ids(deals) != "1 2 3" || feed.SkippedItems(probs) != 0 || len(probs) != 2 {
			t.Errorf("column: deals %s, problems %v; want 3 deals and 2 notes", ids(deals), probs)
		}
		p, _, err := byID(deals)["1"].Payload(Config{Columns: cols, UserID: UserColumn, Stages: Stages{Preset: "woocommerce"}}, nil, false)
		if err != nil || strings.Contains(string(p), "user_custom_id") {
			t.Errorf("a deal without a user: %s %v", p, err)
		}
	})

	t.Run("BOMCRLFAndQuotedNewlines", func(t *testing.T) {
		text := "\ufeffOrder Number,Order Status,Billing Email,SKU,Note\r\n" +
			"1,completed,a@example.com,A,\"two\r\nlines, and \"\"quotes\"\"\"\r\n" +
			"2,completed,b@example.com,B,plain\r\n"
		cfg := Config{Columns: Columns{OrderID: "Order Number", Status: "Order Status", Email: "Billing Email", LineProduct: "SKU"},
			Stages: Stages{Preset: "woocommerce"}, Attributes: []string{"Note"}}
		deals, probs := readText(t, "bom.csv", text, cfg)
		noProblems(t, probs)
		if ids(deals) != "1 2" || deals[0].Order.Attrs["note"] != "two\nlines, and \"quotes\"" || deals[1].Line != 4 {
			t.Errorf("deals %+v", deals)
		}
	})

	t.Run("UTF16WithBOM", func(t *testing.T) {
		text := "\ufeffOrder Number\tOrder Status\tBilling Email\tSKU\r\n1\tcompleted\ta@example.com\tŽIDLE-1\r\n"
		u := utf16.Encode([]rune(text))
		b := make([]byte, 0, 2*len(u))
		for _, c := range u {
			b = append(b, byte(c), byte(c>>8))
		}
		deals, probs := readText(t, "excel.txt", string(b), wooConfigFor("Order Number", "Order Status", "Billing Email", "SKU"))
		noProblems(t, probs)
		if len(deals) != 1 || deals[0].Products[0] != "ŽIDLE-1" {
			t.Errorf("UTF-16 TSV: %+v", deals)
		}
	})

	t.Run("TSVAndSepLine", func(t *testing.T) {
		cfg := wooConfigFor("id", "status", "email", "sku")
		deals, probs := readText(t, "o.tsv", "id\tstatus\temail\tsku\n1\tcompleted\ta@example.com\tA,B\n", cfg)
		noProblems(t, probs)
		if len(deals) != 1 || deals[0].Products[0] != "A,B" {
			t.Errorf("TSV: %+v", deals)
		}
		deals, probs = readText(t, "o.csv", "sep=;\r\nid;status;email;sku\r\n1;completed;a@example.com;A,B\r\n", cfg)
		noProblems(t, probs)
		if len(deals) != 1 || deals[0].Products[0] != "A,B" || deals[0].Line != 3 {
			t.Errorf("sep=; line: %+v", deals)
		}
		cfg.Format = FormatTSV
		deals, _ = readText(t, "o.txt", "id\tstatus\temail\tsku\n1\tcompleted\ta@example.com\tA\n", cfg)
		if len(deals) != 1 {
			t.Errorf("format tsv: %+v", deals)
		}
	})

	t.Run("TruncatedInsideAQuotedFieldIsAnError", func(t *testing.T) {
		for name, text := range map[string]string{
			"end of line": "id,status,email,sku,note\n1,completed,a@example.com,A,ok\n2,completed,b@example.com,B,\"cut her",
			"multi-line":  "id,status,email,sku,note\n1,completed,a@example.com,A,ok\n2,completed,b@example.com,B,\"cut\nher\n",
		} {
			deals, probs, err := readPathErr(t, writeFile(t, "cut.csv", text), wooConfigFor("id", "status", "email", "sku"))
			if err == nil || !strings.Contains(err.Error(), "cut.csv") || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "quoted field") {
				t.Errorf("%s: err %v, want one naming the file, line 3 and the quoted field", name, err)
			}
			if deals != nil || probs != nil {
				t.Errorf("%s: a failed read returned %d deals, %d problems", name, len(deals), len(probs))
			}
		}
	})

	t.Run("BrokenQuotingInOneRowSkipsItsOrderOnly", func(t *testing.T) {
		text := "id,status,email,sku,note\n" +
			"1,completed,a@example.com,A,ok\n" +
			"2,completed,b@example.com,B,a 12\" pizza\n" +
			"2,,,C,\n" +
			"3,completed,c@example.com,C,\"quoted\"trailing\n" +
			"4,completed,d@example.com,D,fine\n"
		deals, probs := readText(t, "quotes.csv", text, wooConfigFor("id", "status", "email", "sku"))
		if ids(deals) != "1 4" {
			t.Errorf("deals %s, want 1 4", ids(deals))
		}
		if feed.SkippedItems(probs) != 2 {
			t.Errorf("problems %v, want orders 2 and 3 skipped", probs)
		}
		if p, ok := findProblem(probs, "quotes.csv", "bare \""); !ok || p.Line != 3 || p.ItemID != "2" {
			t.Errorf("problems %v: want one on line 3 naming order 2", probs)
		}
		if p, ok := findProblem(probs, "quotes.csv", "extraneous"); !ok || p.Line != 5 || p.ItemID != "3" {
			t.Errorf("problems %v: want one on line 5 naming order 3", probs)
		}
	})

	t.Run("TooManyFieldsSkipsTheOrder", func(t *testing.T) {
		text := "id,status,email,sku,total\n1,completed,a@example.com,A,1,234.50\n2,completed,b@example.com,B,\"1,234.50\"\n"
		cfg := wooConfigFor("id", "status", "email", "sku")
		cfg.Columns.Total = "total"
		deals, probs := readText(t, "shift.csv", text, cfg)
		if ids(deals) != "2" || deals[0].Order.Total != "1234.50" {
			t.Errorf("deals %+v, want 2 with total 1234.50", deals)
		}
		if p, ok := findProblem(probs, "6 fields", "header 5"); !ok || p.Line != 2 || p.ItemID != "1" || p.Kind != feed.ProblemSkippedItem {
			t.Errorf("problems %v", probs)
		}
	})

	t.Run("MalformedNumberIsAProblemNamingTheRow", func(t *testing.T) {
		text := "id,status,email,sku,qty,value,total\n" +
			"1,completed,a@example.com,A,1,10.00,10.00\n" +
			"2,completed,b@example.com,B,1,10.00,\n" +
			"2,,,C,two,5.00,\n" +
			"3,completed,c@example.com,C,1,\"1,234\",\n" +
			"4,completed,d@example.com,D,1,5.00,12 EUR\n"
		cfg := wooConfigFor("id", "status", "email", "sku")
		cfg.Columns.LineQuantity, cfg.Columns.LineValue, cfg.Columns.Total = "qty", "value", "total"
		deals, probs := readText(t, "num.csv", text, cfg)
		if ids(deals) != "1" {
			t.Errorf("deals %s, want 1", ids(deals))
		}
		for _, c := range []struct {
			line  int
			id    string
			parts []string
		}{{4, "2", []string{`"two"`, "quantity", `"qty"`}}, {5, "3", []string{"ambiguous", `"1,234"`}}, {6, "4", []string{`"12 EUR"`, "total"}}} {
			p, ok := findProblem(probs, c.parts...)
			if !ok || p.Line != c.line || p.ItemID != c.id || p.Kind != feed.ProblemSkippedItem {
				t.Errorf("problems %v: want one on line %d naming order %s and %v", probs, c.line, c.id, c.parts)
			}
		}
		// Config.Decimal settles the ambiguity.
		cfg.Decimal = ","
		deals, _ = readText(t, "num.csv", text, cfg)
		if d, ok := byID(deals)["3"]; !ok || d.Order.Lines[0].Value != "1.234" {
			t.Errorf("decimal \",\": %+v", deals)
		} else if v := decode(t, d, cfg); v["value"] != json.Number("1.234") || fmt.Sprint(v[ProductsKey]) != "[map[product_custom_id:C quantity:1 value:1.234]]" {
			t.Errorf("decimal \",\": payload %v", v)
		}
	})

	t.Run("RowsWithoutOrderIDAndBlankRows", func(t *testing.T) {
		text := "id,status,email,sku\n1,completed,a@example.com,A\n,,,\n ,completed,b@example.com,B\n\n2,completed,b@example.com,B\n"
		deals, probs := readText(t, "noid.csv", text, wooConfigFor("id", "status", "email", "sku"))
		if ids(deals) != "1 2" || len(probs) != 1 || probs[0].Line != 4 || !strings.Contains(probs[0].Msg, "no order id") {
			t.Errorf("deals %s, problems %v", ids(deals), probs)
		}
	})

	t.Run("DifferingOrderValuesKeepTheFirst", func(t *testing.T) {
		text := "id,status,email,sku\n1,completed,a@example.com,A\n1,cancelled,a@example.com,B\n"
		deals, probs := readText(t, "differ.csv", text, wooConfigFor("id", "status", "email", "sku"))
		if len(deals) != 1 || deals[0].Order.Status != "completed" || len(probs) != 1 || probs[0].Kind != feed.ProblemOther || probs[0].Line != 3 {
			t.Errorf("deals %+v, problems %v", deals, probs)
		}
	})

	t.Run("LineWithoutProduct", func(t *testing.T) {
		text := "id,status,email,sku,value\n1,completed,a@example.com,A,5\n1,,,,3\n"
		cfg := wooConfigFor("id", "status", "email", "sku")
		cfg.Columns.LineValue = "value"
		deals, probs := readText(t, "noprod.csv", text, cfg)
		if len(deals) != 1 || len(deals[0].Products) != 1 || len(probs) != 1 || probs[0].Kind != feed.ProblemOther {
			t.Errorf("deals %+v, problems %v", deals, probs)
		}
	})

	t.Run("InvalidUTF8SkipsTheOrder", func(t *testing.T) {
		text := "id,status,email,sku\n1,completed,a@example.com,M\xfcller\n2,completed,a@example.com,B\n"
		deals, probs := readText(t, "latin1.csv", text, wooConfigFor("id", "status", "email", "sku"))
		if ids(deals) != "2" || feed.SkippedItems(probs) != 1 || !strings.Contains(probs[0].Msg, "UTF-8") {
			t.Errorf("deals %s, problems %v", ids(deals), probs)
		}
	})

	t.Run("HeaderWithoutAConfiguredColumnIsAnError", func(t *testing.T) {
		cfg := wooConfigFor("id", "status", "email", "sku")
		cfg.Columns.Total = "Order Total"
		_, _, err := readPathErr(t, writeFile(t, "hdr.csv", "id,status,email,sku\n1,completed,a@example.com,A\n"), cfg)
		if err == nil || !strings.Contains(err.Error(), `"Order Total" (columns.total)`) || !strings.Contains(err.Error(), "hdr.csv") {
			t.Errorf("err %v", err)
		}
	})

	t.Run("DuplicateHeaderColumn", func(t *testing.T) {
		text := "\n\nid,status,email,sku,SKU\n1,completed,a@example.com,A,B\n"
		deals, probs := readText(t, "dup.csv", text, wooConfigFor("id", "status", "email", "sku"))
		if len(deals) != 1 || deals[0].Products[0] != "A" || deals[0].Line != 4 {
			t.Errorf("deals %+v", deals)
		}
		if len(probs) != 1 || probs[0].Kind != feed.ProblemDuplicateHeader || probs[0].Line != 3 || !strings.Contains(probs[0].Msg, "columns 4 and 5") {
			t.Errorf("problems %v", probs)
		}
	})

	t.Run("ConfigErrorsAndEmptyInput", func(t *testing.T) {
		cfg := wooConfig()
		cfg.Columns.OrderID = ""
		if _, _, err := readPathErr(t, "testdata/woocommerce.csv", cfg); err == nil || !strings.Contains(err.Error(), "columns.order_id: required") {
			t.Errorf("err %v", err)
		}
		for _, text := range []string{"", " \n\n"} {
			if _, _, err := readPathErr(t, writeFile(t, "empty.csv", text), wooConfig()); err == nil || !strings.Contains(err.Error(), "empty") {
				t.Errorf("%q: err %v", text, err)
			}
		}
	})

	t.Run("AttributeCutToMaxStringLen", func(t *testing.T) {
		long := strings.Repeat("é", 300)
		text := "id,status,email,sku,note\n1,completed,a@example.com,A," + long + "\n"
		cfg := wooConfigFor("id", "status", "email", "sku")
		cfg.Attributes = []string{"note"}
		deals, probs := readText(t, "long.csv", text, cfg)
		if len(deals) != 1 || deals[0].Order.Attrs["note"] != strings.Repeat("é", 256) || len(probs) != 1 || probs[0].Kind != feed.ProblemOther {
			t.Errorf("deals %d, problems %v", len(deals), probs)
		}
	})
}

// wooConfigFor is a woocommerce configuration over the named columns.
func wooConfigFor(id, status, email, product string) Config {
	return Config{Columns: Columns{OrderID: id, Status: status, Email: email, LineProduct: product}, Stages: Stages{Preset: "woocommerce"}}
}

func TestReadJSONL(t *testing.T) {
	cfg := Config{
		Columns: Columns{OrderID: "id", Status: "status", Email: "customer.email", CustomerID: "customer.id", Total: "total",
			Currency: "currency", Placed: "created_at", Lines: "line_items", LineProduct: "sku", LineQuantity: "quantity", LineValue: "total"},
		Stages:     Stages{Preset: "woocommerce"},
		Attributes: []string{"payment_method"},
	}
	t.Run("LineArrays", func(t *testing.T) {
		deals, probs := readPath(t, "testdata/orders.jsonl", cfg)
		noProblems(t, probs)
		if ids(deals) != "5001 5002 5003" {
			t.Fatalf("deals %s", ids(deals))
		}
		m := byID(deals)
		d := m["5001"]
		if d.Line != 1 || d.Order.Total != "37.40" || d.Order.CustomerID != "17" || d.Order.Email != "Jane.Doe@Example.com" ||
			fmt.Sprint(d.Order.Lines) != "[{TEE-RED-S 1 19.9} {TEE-BLUE-M 1 17.50}]" || d.Order.Attrs["payment_method"] != "paypal" {
			t.Errorf("5001: %+v", d)
		}
		if d := m["5002"]; d.Order.CustomerID != "" || d.Order.Total != "" || len(d.Products) != 1 {
			t.Errorf("5002: %+v", d)
		}
		if d := m["5003"]; d.Line != 4 || d.Order.Status != "On-Hold" || d.Order.Total != "21.9" || len(d.Products) != 0 {
			t.Errorf("5003 (upper-case keys, after a blank line): %+v", d)
		}
		p, _, err := m["5002"].Payload(cfg, nil, false)
		if err != nil || !strings.Contains(string(p), `"value":24`) {
			t.Errorf("5002's value is the sum of its lines: %s %v", p, err)
		}
	})
	t.Run("BadLines", func(t *testing.T) {
		text := `{"id": 1, "status": "completed", "customer": {"email": "a@example.com"}, "line_items": [{"sku": "A", "quantity": "x"}]}
not json
{"id": 2, "status": "completed", "customer": {"email": "a@example.com"}, "line_items": "A"}
{"id": 3, "status": "completed", "customer": {"email": "a@example.com"}, "line_items": [{"sku": "A"}]}
{"id": 3, "status": "completed", "customer": {"email": "a@example.com"}, "line_items": [{"sku": "B"}]}
[1, 2]
`
		deals, probs := readText(t, "bad.jsonl", text, cfg)
		if ids(deals) != "3" || fmt.Sprint(deals[0].Products) != "[A]" {
			t.Errorf("deals %+v", deals)
		}
		for _, c := range []struct {
			line int
			id   string
			part string
		}{{1, "1", `"x"`}, {2, "", "not a JSON object (invalid character"}, {3, "2", "not an array"}, {5, "3", "line 4 already"}, {6, "", "not a JSON object (an array)"}} {
			p, ok := findProblem(probs, c.part)
			if !ok || p.Line != c.line || p.ItemID != c.id || p.Kind != feed.ProblemSkippedItem {
				t.Errorf("problems %v: want one on line %d, order %q: %s", probs, c.line, c.id, c.part)
			}
		}
	})
	t.Run("CutLastLineIsAnError", func(t *testing.T) {
		text := `{"id": 1, "status": "completed", "customer": {"email": "a@example.com"}, "line_items": []}
{"id": 2, "status": "comp`
		_, _, err := readPathErr(t, writeFile(t, "cut.jsonl", text), cfg)
		if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "cut short") {
			t.Errorf("err %v", err)
		}
	})
	t.Run("LinesRequired", func(t *testing.T) {
		c := cfg
		c.Columns.Lines = ""
		_, _, err := readPathErr(t, "testdata/orders.jsonl", c)
		if err == nil || !strings.Contains(err.Error(), "columns.lines") {
			t.Errorf("err %v", err)
		}
	})
}
