package lib

import "testing"

func TestHello(t *testing.T) {
	if Hello("x") != "hello, x" {
		t.Fatal(Hello("x"))
	}
}
