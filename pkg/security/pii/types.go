package pii

import (
	"encoding/json"
	"slices"
)

// The built-in PII types. The names are a contract: they appear in scan
// output, in escaipii counts, in redacted tokens and in configuration.
const (
	// TypeEmail is an e-mail address, internationalised local parts and
	// domains included.
	TypeEmail = "EMAIL"
	// TypePhone is a telephone number: NANP, international (+CC, 00CC) and,
	// with context, national numbers with a trunk 0; extensions included.
	TypePhone = "PHONE"
	// TypeSSN is a US social security number.
	TypeSSN = "SSN"
	// TypeCreditCard is a payment card number that passes Luhn and matches
	// an issuer's prefix and length.
	TypeCreditCard = "CREDIT_CARD"
	// TypeIBAN is an international bank account number with the right
	// length for its country and a valid mod-97 check.
	TypeIBAN = "IBAN"
	// TypeIPAddress is an IPv4 or IPv6 address of a host.
	TypeIPAddress = "IP_ADDRESS"
	// TypeMACAddress is an EUI-48 hardware address.
	TypeMACAddress = "MAC_ADDRESS"
	// TypeCrypto is a Bitcoin (base58check, bech32, bech32m) or Ethereum
	// address.
	TypeCrypto = "CRYPTO"
	// TypeURL is a URL; reported at high sensitivity, and at every
	// sensitivity when it carries credentials.
	TypeURL = "URL"
	// TypeAWSAccessKey is an AWS access key id (AKIA…, ASIA…).
	TypeAWSAccessKey = "AWS_ACCESS_KEY"
	// TypeGitHubToken is a GitHub token (ghp_, gho_, ghu_, ghs_, ghr_,
	// github_pat_).
	TypeGitHubToken = "GITHUB_TOKEN"
	// TypeJWT is a JSON Web Token.
	TypeJWT = "JWT"
	// TypePrivateKey is a PEM private key block or an age secret key.
	TypePrivateKey = "PRIVATE_KEY"
	// TypeAPIKey is a well-known prefixed secret of another service.
	TypeAPIKey = "API_KEY"
)

// kind is the index of a built-in type; bit sets of kinds are uint32.
type kind uint8

const (
	kEmail kind = iota
	kPhone
	kSSN
	kCard
	kIBAN
	kIP
	kMAC
	kCrypto
	kURL
	kAWS
	kGitHub
	kJWT
	kPrivateKey
	kAPIKey
	numKinds
)

var kindNames = [numKinds]string{
	kEmail:      TypeEmail,
	kPhone:      TypePhone,
	kSSN:        TypeSSN,
	kCard:       TypeCreditCard,
	kIBAN:       TypeIBAN,
	kIP:         TypeIPAddress,
	kMAC:        TypeMACAddress,
	kCrypto:     TypeCrypto,
	kURL:        TypeURL,
	kAWS:        TypeAWSAccessKey,
	kGitHub:     TypeGitHubToken,
	kJWT:        TypeJWT,
	kPrivateKey: TypePrivateKey,
	kAPIKey:     TypeAPIKey,
}

// kindOf returns the kind named t.
func kindOf(t string) (kind, bool) {
	for k, n := range kindNames {
		if n == t {
			return kind(k), true
		}
	}
	return 0, false
}

// Types returns the built-in type names in a fixed order.
func Types() []string {
	return slices.Clone(kindNames[:])
}

// Match is one detected value: its type, where it is and how sure the
// detector is. Start and End are UTF-8 byte offsets into the scanned
// text, End exclusive, so text[Start:End] is the value.
type Match struct {
	// Type is a built-in type name (TypeEmail, …) or a custom pattern name.
	Type string `json:"type"`
	// Start is the byte offset of the first byte of the value.
	Start int `json:"start"`
	// End is the byte offset just past the value.
	End int `json:"end"`
	// Score is the confidence in [0,1], in steps of 0.01: validation
	// strength plus context (see the package documentation).
	Score float64 `json:"score"`
}

// Counts is the number of masked values per type. A nil Counts means
// nothing was found; it encodes as {} in JSON.
type Counts map[string]int

// Total returns the sum of all counts.
func (c Counts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// MarshalJSON encodes nil as {} so that "nothing found" is explicit.
func (c Counts) MarshalJSON() ([]byte, error) {
	if c == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(map[string]int(c))
}

// add increments c[t], allocating the map on first use.
func (c *Counts) add(t string, n int) {
	if n == 0 {
		return
	}
	if *c == nil {
		*c = make(Counts, 4)
	}
	(*c)[t] += n
}

// Status is the value of the escaipii extension attribute that
// MaskEnvelope writes: {"status":"scanned","counts":{"EMAIL":2}}.
type Status struct {
	// Status is StatusScanned.
	Status string `json:"status"`
	// Counts is the number of masked values per type; {} when none.
	Counts Counts `json:"counts"`
}

// StatusScanned is the Status of an event whose data was scanned and
// masked.
const StatusScanned = "scanned"

// ExtensionName is the envelope extension attribute that carries Status.
const ExtensionName = "escaipii"
