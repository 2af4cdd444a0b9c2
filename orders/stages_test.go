package orders

import (
	"fmt"
	"strings"
	"testing"
)

func TestPresets(t *testing.T) {
	if got := fmt.Sprint(Presets()); got != "[magento shopify woocommerce]" {
		t.Errorf("Presets() = %s", got)
	}
	want := map[string]map[string]string{
		"woocommerce": {
			"pending": "placed", "processing": "placed", "on-hold": "placed", "completed": "fulfilled",
			"cancelled": "cancelled", "refunded": "cancelled", "failed": "cancelled",
			"wc-completed": "fulfilled", "On hold": "placed", "Pending payment": "placed",
		},
		"magento": {
			"pending": "placed", "processing": "placed", "holded": "placed", "payment_review": "placed",
			"complete": "fulfilled", "closed": "cancelled", "canceled": "cancelled", "Payment Review": "placed",
		},
		"shopify": {
			"paid/fulfilled": "fulfilled", "paid/shipped": "fulfilled", "paid/": "placed", "paid/unfulfilled": "placed",
			"paid/partial": "placed", "pending/": "placed", "pending/unfulfilled": "placed", "authorized/fulfilled": "placed",
			"refunded/": "cancelled", "refunded/fulfilled": "cancelled", "voided/unfulfilled": "cancelled",
			"partially_refunded/fulfilled": "fulfilled", "partially_refunded/unfulfilled": "placed",
			"partially_paid/partial": "placed", " Paid / Fulfilled ": "fulfilled",
		},
	}
	statusOf := map[string]int{"placed": 1, "fulfilled": 2, "cancelled": 3}
	for preset, table := range want {
		s := Stages{Preset: preset}
		if err := s.Check(); err != nil {
			t.Errorf("%s: Check: %v", preset, err)
		}
		for status, stage := range table {
			got, ok := s.Of(status)
			if !ok || got.Name != stage || got.Status != statusOf[stage] || got.ID != 0 {
				t.Errorf("%s: Of(%q) = %+v %v, want %s", preset, status, got, ok, stage)
			}
		}
	}
	for preset, unknown := range map[string][]string{
		"woocommerce": {"", "complete", "draft", "checkout-draft"},
		"magento":     {"completed", "fraud"},
		"shopify":     {"paid", "/", "/fulfilled", "expired/", "paid/restocked", "fulfilled"},
	} {
		for _, status := range unknown {
			if got, ok := (Stages{Preset: preset}).Of(status); ok {
				t.Errorf("%s: Of(%q) = %+v, want unknown", preset, status, got)
			}
		}
	}
}

func TestStagesOf(t *testing.T) {
	t.Run("StatusesOverrideThePreset", func(t *testing.T) {
		s := Stages{Preset: "shopify", Statuses: map[string]string{"Paid/Restocked": "Cancelled", "refunded/*": "placed", "paid/fulfilled": "placed"}}
		for status, want := range map[string]string{"paid/restocked": "cancelled", "refunded/fulfilled": "placed", "PAID/FULFILLED": "placed", "paid/shipped": "fulfilled"} {
			if got, ok := s.Of(status); !ok || got.Name != want {
				t.Errorf("Of(%q) = %+v %v, want %s", status, got, ok, want)
			}
		}
	})
	t.Run("StagesGiveIDsAndStatuses", func(t *testing.T) {
		s := Stages{Preset: "woocommerce", Stages: map[string]Stage{"Placed": {ID: 11, Status: StatusUnset}, "fulfilled": {ID: 12, Status: DealArchived}}}
		if got, _ := s.Of("processing"); got != (Stage{Name: "placed", ID: 11, Status: 1}) {
			t.Errorf("processing: %+v", got)
		}
		if got, _ := s.Of("completed"); got != (Stage{Name: "fulfilled", ID: 12, Status: 4}) {
			t.Errorf("completed: %+v", got)
		}
		if got, _ := s.Of("failed"); got != (Stage{Name: "cancelled", Status: 3}) {
			t.Errorf("failed: %+v", got)
		}
	})
	t.Run("SimplePipeline", func(t *testing.T) {
		s := Stages{Preset: "woocommerce", Pipeline: PipelineSimple}
		for _, status := range []string{"processing", "completed", "cancelled"} {
			if got, ok := s.Of(status); !ok || got != (Stage{Name: "placed", Status: DealWon}) {
				t.Errorf("simple: Of(%q) = %+v %v, want placed/2", status, got, ok)
			}
		}
		s.Stages = map[string]Stage{"cancelled": {ID: 9, Status: StatusUnset}}
		if got, _ := s.Of("cancelled"); got != (Stage{Name: "cancelled", ID: 9, Status: DealLost}) {
			t.Errorf("simple with a cancelled stage: %+v", got)
		}
	})
	t.Run("CustomPipeline", func(t *testing.T) {
		s := Stages{Pipeline: PipelineCustom, Statuses: map[string]string{"new": "Inbox", "sent": "Shipped"},
			Stages: map[string]Stage{"inbox": {ID: 1, Status: 1}, "shipped": {ID: 2, Status: 2}}}
		if err := s.Check(); err != nil {
			t.Fatal(err)
		}
		if got, ok := s.Of("sent"); !ok || got != (Stage{Name: "shipped", ID: 2, Status: 2}) {
			t.Errorf("custom: %+v %v", got, ok)
		}
		if _, ok := s.Of("completed"); ok {
			t.Error("custom: a status nobody mapped is known")
		}
	})
}

func TestStagesCheck(t *testing.T) {
	for _, c := range []struct {
		s    Stages
		want []string
	}{
		{Stages{Preset: "shopfy"}, []string{`preset: unknown preset "shopfy"`, "magento, shopify, woocommerce"}},
		{Stages{}, []string{"preset: none, and no statuses"}},
		{Stages{Preset: "woocommerce", Pipeline: "fancy"}, []string{`pipeline: "fancy"`}},
		{Stages{Preset: "woocommerce", PipelineID: -1}, []string{"pipeline_id: -1"}},
		{Stages{Preset: "woocommerce", Stages: map[string]Stage{"placed": {Status: 7}}}, []string{"stages.placed.status: 7"}},
		{Stages{Preset: "woocommerce", Stages: map[string]Stage{"placed": {ID: -2, Status: 1}}}, []string{"stages.placed.id: -2"}},
		{Stages{Preset: "woocommerce", Stages: map[string]Stage{"review": {ID: 5, Status: StatusUnset}}}, []string{"stages.review.status: required"}},
		{Stages{Preset: "woocommerce", Statuses: map[string]string{"on-hold": "waiting"}}, []string{`statuses.on-hold: stage "waiting" is not in the recommended pipeline`, "cancelled, fulfilled, placed"}},
		{Stages{Preset: "woocommerce", Pipeline: PipelineSimple, Statuses: map[string]string{"completed": "fulfilled"}}, []string{`statuses.completed: stage "fulfilled" is not in the simple pipeline`}},
		{Stages{Preset: "woocommerce", Pipeline: PipelineCustom}, []string{"stages: the custom pipeline has none"}},
		{Stages{Preset: "woocommerce", Pipeline: PipelineCustom, Stages: map[string]Stage{"placed": {ID: 1, Status: 1}}},
			[]string{`preset: woocommerce maps`, `"fulfilled"`, "add stages.fulfilled", `"cancelled"`}},
		{Stages{Statuses: map[string]string{"New": "placed", "new": "placed"}}, []string{"the same status as statuses.New"}},
	} {
		err := c.s.Check()
		if err == nil {
			t.Errorf("%+v: Check() = nil, want %v", c.s, c.want)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%+v: Check() = %v, want it to say %q", c.s, err, w)
			}
		}
	}
	// A custom pipeline whose statuses shadow the preset's missing stages is fine.
	ok := Stages{Preset: "woocommerce", Pipeline: PipelineCustom, Stages: map[string]Stage{"open": {Status: 1}, "done": {Status: 2}},
		Statuses: map[string]string{"pending": "open", "processing": "open", "on-hold": "open", "completed": "done",
			"cancelled": "done", "refunded": "done", "failed": "done", "wc-pending": "open", "wc-processing": "open",
			"wc-on-hold": "open", "wc-completed": "done", "wc-cancelled": "done", "wc-refunded": "done", "wc-failed": "done",
			"pending payment": "open", "on hold": "open"}}
	if err := ok.Check(); err != nil {
		t.Errorf("every preset status mapped: %v", err)
	}
}

func TestColumnsAndConfigCheck(t *testing.T) {
	for _, c := range []struct {
		cols   Columns
		format Format
		want   string
	}{
		{Columns{Status: "s", LineProduct: "p"}, FormatCSV, "columns.order_id: required"},
		{Columns{OrderID: "o", LineProduct: "p"}, FormatAuto, "columns.status: required"},
		{Columns{OrderID: "o", Status: "s"}, FormatCSV, "columns.line_product: required"},
		{Columns{OrderID: "o", Status: "a+b+c", LineProduct: "p"}, FormatCSV, "columns.status:"},
		{Columns{OrderID: "o", Status: "a+", LineProduct: "p"}, FormatCSV, "columns.status:"},
		{Columns{OrderID: "o", Status: "s", LineProduct: "p"}, FormatJSONL, "columns.lines: required"},
		{Columns{OrderID: "o", Status: "s", LineProduct: "p", Lines: "items"}, FormatTSV, "columns.lines: JSONL only"},
		{Columns{OrderID: "o", Status: "s", LineProduct: "p"}, "xml", `format: "xml"`},
	} {
		if err := c.cols.Check(c.format); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v/%s: Check() = %v, want %q", c.cols, c.format, err, c.want)
		}
	}
	good := Columns{OrderID: "o", Status: "Financial Status+Fulfillment Status", LineProduct: "p"}
	if err := good.Check(FormatCSV); err != nil {
		t.Errorf("Check() = %v", err)
	}

	base := func() Config {
		return Config{Columns: Columns{OrderID: "o", Status: "s", Email: "Billing Email", LineProduct: "p"}, Stages: Stages{Preset: "magento"}}
	}
	if err := base().Check(); err != nil {
		t.Fatalf("base: %v", err)
	}
	for _, c := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Columns.Email = "" }, "columns.email: required by user_id sha256_email"},
		{func(c *Config) { c.UserID = UserColumn }, "columns.customer_id: required by user_id column"},
		{func(c *Config) { c.UserID = "hash" }, `user_id: "hash"`},
		{func(c *Config) { c.Attributes = []string{"Value"} }, `attributes[0]: "Value" would be sent as "value"`},
		{func(c *Config) { c.Attributes = []string{"Payment Method", "payment_method"} }, "attributes[1]:"},
		{func(c *Config) { c.Attributes = []string{" billing email"} }, "attributes[0]: \" billing email\" is the e-mail column"},
		{func(c *Config) { c.Currency = "euro" }, `currency: "euro"`},
		{func(c *Config) { c.Decimal = ";" }, `decimal: ";"`},
		{func(c *Config) { c.Stages.Preset = "x" }, "preset: unknown"},
	} {
		cfg := base()
		c.edit(&cfg)
		if err := cfg.Check(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Check() = %v, want %q", err, c.want)
		}
	}
}
