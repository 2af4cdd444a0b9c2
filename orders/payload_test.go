package orders

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestPayload(t *testing.T) {
	cfg := wooConfig()
	cfg.Attributes = []string{"Payment Method"}
	cfg.Stages.Stages = map[string]Stage{"fulfilled": {ID: 12, Status: StatusUnset}}
	cfg.Stages.PipelineID = 3
	deals, probs := readPath(t, "testdata/woocommerce.csv", cfg)
	noProblems(t, probs)
	m := byID(deals)

	t.Run("KeysAndValues", func(t *testing.T) {
		p, unknown, err := m["1040"].Payload(cfg, nil, false)
		if err != nil || unknown != 0 {
			t.Fatalf("Payload: %v, %d unknown", err, unknown)
		}
		want := `{"currency":"EUR","custom_id":"1040","name":"Order 1040",` +
			`"order_products":[{"currency":"EUR","product_custom_id":"TEE-RED-S","quantity":1,"value":19.9},` +
			`{"currency":"EUR","product_custom_id":"TEE-BLUE-M","quantity":1,"value":17.5}],` +
			`"payment_method":"PayPal","pipeline":3,"placed_at":"2026-11-20 10:12","stage":12,"stage_name":"fulfilled","status":2,` +
			`"user_custom_id":"86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d","value":37.4}`
		if string(p) != want {
			t.Errorf("payload\n got %s\nwant %s", p, want)
		}
		var v map[string]any
		if err := json.Unmarshal(p, &v); err != nil {
			t.Fatal(err)
		}
		if v["value"].(float64) != 37.4 || v["status"].(float64) != 2 {
			t.Errorf("value and status must be numbers: %v", v)
		}
	})

	t.Run("ProductsKeysLiveInConstants", func(t *testing.T) {
		p, _, _ := m["1040"].Payload(cfg, nil, false)
		if !strings.Contains(string(p), `"`+ProductsKey+`":[{`) || !strings.Contains(string(p), `"`+ProductIDKey+`":"TEE-RED-S"`) {
			t.Errorf("payload %s", p)
		}
	})

	t.Run("CommaDecimalsAndTheSumOfLines", func(t *testing.T) {
		if v := decode(t, m["1042"], cfg); v["value"] != json.Number("1299") || v["currency"] != "CZK" {
			t.Errorf("1042: %v", v)
		}
		if v := decode(t, m["1044"], cfg); v["value"] != json.Number("57.9") { // no total: 21.90 + 36,00
			t.Errorf("1044: %v", v)
		}
		d := &Deal{ID: "9", Order: Order{Status: "completed", Email: "a@example.com", Lines: []Line{{"A", "1", "2.5"}, {"B", "1", ""}}}}
		if v := decode(t, d, cfg); v["value"] != nil {
			t.Errorf("a line without a value: %v; want no deal value", v)
		}
	})

	t.Run("MapIDAndUnknownCount", func(t *testing.T) {
		catalog := map[string]string{"TEE-RED-S": "TEE-BASIC", "TEE-BLUE-M": "TEE-BASIC"}
		mapID := func(id string) (string, bool) {
			c, ok := catalog[id]
			return c, ok
		}
		p, unknown, err := m["1040"].Payload(cfg, mapID, false)
		if err != nil || unknown != 0 || strings.Count(string(p), `"product_custom_id":"TEE-BASIC"`) != 2 {
			t.Errorf("1040: %s, %d unknown, %v", p, unknown, err)
		}
		p, unknown, err = m["1044"].Payload(cfg, mapID, false)
		if err != nil || unknown != 2 || !strings.Contains(string(p), `"product_custom_id":"TEE-RED-M"`) || !strings.Contains(string(p), `"product_custom_id":"MUG-01"`) {
			t.Errorf("1044: %s, %d unknown, %v; want both lines as given, 2 unknown", p, unknown, err)
		}
	})

	t.Run("SendEmailFalseKeepsEmailsOut", func(t *testing.T) {
		d := *m["1040"]
		d.Order.Attrs = map[string]string{"payment_method": "PayPal", "contact": "Write to Jane.Doe@Example.com"}
		p, _, err := d.Payload(cfg, nil, false)
		if err != nil || bytes.Contains(bytes.ToLower(p), []byte("@example")) || strings.Contains(string(p), `"email"`) {
			t.Errorf("sendEmail false: %s %v", p, err)
		}
		p, _, err = d.Payload(cfg, nil, true)
		if err != nil || !strings.Contains(string(p), `"email":"Jane.Doe@Example.com"`) || !strings.Contains(string(p), `"contact":"Write to`) {
			t.Errorf("sendEmail true: %s %v", p, err)
		}
	})

	t.Run("UserIDRules", func(t *testing.T) {
		c := cfg
		c.UserID = UserEmail
		p, _, _ := m["1040"].Payload(c, nil, false)
		if !strings.Contains(string(p), `"user_custom_id":"jane.doe@example.com"`) {
			t.Errorf("email rule: %s", p)
		}
		c.UserID = UserColumn
		p, _, _ = m["1040"].Payload(c, nil, false)
		if !strings.Contains(string(p), `"user_custom_id":"17"`) {
			t.Errorf("column rule: %s", p)
		}
	})

	t.Run("StableBytes", func(t *testing.T) {
		a, _, _ := m["1040"].Payload(cfg, nil, false)
		for i := 0; i < 20; i++ {
			b, _, _ := m["1040"].Payload(cfg, nil, false)
			if !bytes.Equal(a, b) {
				t.Fatalf("payloads differ:\n%s\n%s", a, b)
			}
		}
		// The same order written another way hashes alike.
		d := *m["1040"]
		d.Order.Total = "37.4"
		d.Order.Lines = []Line{{"TEE-RED-S", "1.00", "19,9"}, {"TEE-BLUE-M", "1", "17.500"}}
		d.Order.Attrs = map[string]string{"payment_method": "PayPal"}
		b, _, err := d.Payload(cfg, nil, false)
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("reformatted numbers:\n%s\n%s %v", a, b, err)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		for _, c := range []struct {
			d    Deal
			want string
		}{
			{Deal{ID: "1", Order: Order{Status: "awaiting-goat", Email: "a@example.com"}}, `unknown status "awaiting-goat"`},
			{Deal{ID: "1", Order: Order{Status: "completed"}}, "no e-mail"},
			{Deal{ID: "1", Order: Order{Status: "completed", Email: "nope"}}, `e-mail "n***"`},
			{Deal{ID: "1", Order: Order{Status: "completed", Email: "a@example.com", Total: "lots"}}, `total: malformed number "lots"`},
			{Deal{ID: "1", Order: Order{Status: "completed", Email: "a@example.com", Lines: []Line{{"A", "x", ""}}}}, `line item "A": quantity`},
			{Deal{ID: "1", Order: Order{Status: "completed", Email: "a@example.com", Attrs: map[string]string{"value": "1"}}}, `attribute "value"`},
			{Deal{ID: " ", Order: Order{Status: "completed", Email: "a@example.com"}}, "without an order id"},
		} {
			if _, _, err := c.d.Payload(cfg, nil, false); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%+v: err %v, want %q", c.d, err, c.want)
			}
		}
	})

	t.Run("CurrencyDefaultAndNoLines", func(t *testing.T) {
		c := cfg
		c.Currency = "pln"
		d := Deal{ID: "7", Order: Order{Status: "processing", Email: "a@example.com", Total: "10"}}
		p, _, err := d.Payload(c, nil, false)
		want := `{"currency":"PLN","custom_id":"7","name":"Order 7","pipeline":3,"stage_name":"placed","status":1,` +
			`"user_custom_id":"08168cd80dfd534ab0f10af10f1303fe00af2d43ab5c1432360d137f8197e17a","value":10}`
		if err != nil || string(p) != want {
			t.Errorf("payload\n got %s %v\nwant %s", p, err, want)
		}
	})
}

// decode is a deal's payload as a map, numbers as json.Number.
func decode(t *testing.T, d *Deal, cfg Config) map[string]any {
	t.Helper()
	p, _, err := d.Payload(cfg, nil, false)
	if err != nil {
		t.Fatalf("%s: %v", d.ID, err)
	}
	dec := json.NewDecoder(bytes.NewReader(p))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}
