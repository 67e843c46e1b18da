package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (string, int) {
	t.Helper()
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	ctx := context.Background()
	err := root.ExecuteContext(ctx)
	if err != nil {
		out.WriteString(err.Error())
	}
	return out.String(), exitCode(ctx, err)
}

func TestModels(t *testing.T) {
	out, code := run(t, "models")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := map[string]string{"vgg19": "20024000", "resnet32": "1855584", "lenet300": "266200", "lenet5": "430500"}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if w, ok := want[f[0]]; ok {
			if f[1] != w {
				t.Errorf("%s: %s prunable weights, want %s", f[0], f[1], w)
			}
			delete(want, f[0])
		}
	}
	if len(want) != 0 {
		t.Errorf("models missing from the listing: %v\n%s", want, out)
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	for _, args := range [][]string{{"models", "--no-such-flag"}, {"no-such-command"}, {"models", "extra"}} {
		if out, code := run(t, args...); code != 2 {
			t.Errorf("winnow %v: exit %d, want 2 (%s)", args, code, out)
		}
	}
}

func TestDataMNIST(t *testing.T) {
	out, code := run(t, "data", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	for _, want := range []string{`"examples":60000`, `"examples":10000`, `"classes":10`, `"checked":70000`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s: %s", want, out)
		}
	}
	if _, code := run(t, "data", "--dataset", "nope"); code != 2 {
		t.Errorf("unknown dataset: exit %d, want 2", code)
	}
	if out, code := run(t, "data", "--dataset", "cifar10", "--data-dir", t.TempDir()); code != 1 || !strings.Contains(out, "data_batch_1.bin") {
		t.Errorf("empty folder: exit %d: %s", code, out)
	}
}
