package calc

import "testing"

func TestAddSmall(t *testing.T) {
	if Add(1, 2) != 3 {
		t.Fatal("1 + 2 != 3")
	}
}
