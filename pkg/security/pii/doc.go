// Package pii owns the detection and masking of personal data and secrets
// in ESCAI agent events: what counts as PII, how sure the detector is, and
// what a masked value looks like. It is pure: text and JSON in, matches
// and masked JSON out; no I/O beyond the readers and writers it is given,
// no logging, no global state.
//
// # Detecting
//
// A Detector finds the contract types (TypeEmail … TypeAPIKey) and custom
// patterns in one pass over the text. Each byte costs at most one table
// lookup, and words and runs of digits are read eight bytes at a time;
// only bytes that can start a candidate — '@', a digit, '+', '(', "://",
// "::", "-----BEGIN", the first three bytes of a known token prefix, two
// capitals and two digits (IBAN), hex before ':' — run a handler, and
// only candidates are validated (Luhn, mod 97, checksums, net/netip, the
// SSA and NANP rules). Nothing is compiled per scan, and a scan that finds
// nothing allocates nothing.
//
// The agent data this runs on is full of numbers that are not PII: UUIDs,
// git SHAs, digests, timestamps, epoch milliseconds, versions, order ids,
// ports. They are kept out by boundaries rather than by luck: a number
// glued to a word or by - . / \ to another token (ORD-2024-000123, the
// last group of a UUID, v1.2.3.4, Chrome/120.0.0.0) is never a candidate,
// and neither is one followed by ':' and a digit (times) — except an IPv4
// address before its port.
//
// # Scores and sensitivity
//
// Every match has a score in [0,1]. The format sets the base score; a
// context word among the words around the match ("phone", "ssn", "iban",
// "karte", "téléphone", "电话" …) or a JSON key naming the type ("email",
// "phone_number", "cardNumber", "ssn") adds 0.45, capped at 1. A version
// word ("version", "release", "v", "firmware", …) right before an IP
// address drops it; an id word ("order", "invoice", "id", "ticket", …)
// right before a bare number, or as its key, subtracts 0.45.
//
//	type            form                                              score  with context
//	EMAIL           local@domain.tld, IDN too; TLD not a file ext.    0.90   1.00
//	PHONE           +CC…, assigned country code, national length      0.80   1.00
//	                (415) 555-2671, 1-415-555-2671                    0.65   1.00
//	                415-555-2671 / 415.555.2671 / 415 555 2671        0.60 / 0.55 / 0.50
//	                4155552671, 14155552671 (one run)                 0.30   0.75
//	                13812345678 / 138 1234 5678 (Chinese mobile)      0.30 / 0.25  0.75 / 0.70
//	                0049 30 901820 (00 and a country code)            0.40   0.85
//	                020 7946 0958, 0151 23456789 (national, trunk 0,
//	                9-12 digits in groups)                            0.25   0.70
//	                02079460958 (national, one run)                   0.15   0.60
//	                91-415-555-0132 (country code without '+')        0.20   0.65
//	SSN             536-22-1234                                       0.65   1.00
//	                536 22 1234 / 536.22.1234                         0.45 / 0.40
//	                536221234 (one run)                               0.05   0.50
//	CREDIT_CARD     Luhn, issuer prefix and length, in groups         0.90   1.00
//	                the same in one run                               0.70   1.00
//	                a rare length for the issuer (Visa 13, 19)        -0.40
//	IBAN            registry length for the country, mod 97 = 1       0.95   1.00
//	                the same in lower case, compact only              0.55   1.00
//	IP_ADDRESS      IPv4 and IPv6 hosts (net/netip), with a prefix
//	                length (10.0.0.0/8) or zone (fe80::1%eth0)        0.60   1.00
//	                no host: 0.0.0.0, 127.0.0.1, ::, ::1, multicast,
//	                255.255.255.255 (context does not raise it)       0.50   0.50
//	MAC_ADDRESS     00:1A:2B:3C:4D:5E, 00-1A-…                        0.70   1.00
//	                0011.2233.4455                                    0.50   0.95
//	CRYPTO          base58check, bech32/bech32m, EIP-55 mixed case    0.95   1.00
//	                0x and 40 hex digits in one case                  0.70   1.00
//	URL             scheme://… with a dotted or IP host (high only)   0.60   1.00
//	                www.… (high only)                                 0.55   1.00
//	                with user:password@, a secret query parameter
//	                (password=, token=, sig=, …) or a webhook path    0.95   (every sensitivity)
//	AWS_ACCESS_KEY  AKIA/ASIA/… and 16 base32 characters              0.90   1.00
//	                40 base64 characters (a secret access key)        0.35   0.80
//	GITHUB_TOKEN    ghp_/gho_/ghu_/ghs_/ghr_ with a valid CRC-32      1.00
//	                the same, checksum wrong (a fake or a typo)       0.45   0.90
//	                github_pat_ (fine-grained)                        0.95   1.00
//	JWT             three base64url parts, header JSON with "alg"     0.95   1.00
//	PRIVATE_KEY     PEM "-----BEGIN … PRIVATE KEY-----" to its END;
//	                a block cut off before END to the end of its body;
//	                AGE-SECRET-KEY-1…                                 1.00
//	API_KEY         distinctive prefix and exact length: Slack xox?-,
//	                Stripe sk_/rk_/pk_live_, Google AIza, Anthropic
//	                sk-ant-, OpenAI sk-proj-, GitLab glpat-, npm_,
//	                SendGrid SG., Hugging Face hf_, Shopify, Vault,…  0.85-0.95
//	                generic sk- 0.80, Stripe test keys 0.70,
//	                Twilio SK… 0.65, npm_ with a wrong checksum 0.50
//	custom          CustomPattern.Score (default 0.80)                +0.45
//
// Sensitivity chooses the threshold a score must reach and the types:
//
//	sensitivity  threshold  types
//	low          0.75       all but URL (URLs with credentials are always reported)
//	medium       0.50       all but URL (idem)
//	high         0.40       all
//
// So at low an unformatted phone number needs a context word, at medium
// an unformatted SSN needs one, and at high a GitHub token with a wrong
// checksum is still masked. A bare run of digits (4158829090, 536221234)
// takes context only from words before it; other candidates also from
// the few words after. Context words are matched whole and ignoring
// case; words of scripts without spaces (电话, 電話, 订单号) by
// substring. "number" names a phone only as one of the three words
// before it and when the word before it names nothing else ("my number",
// not "order number" or "account number"). An empty Sensitivity is high:
// a forgotten setting never masks less.
//
// Addresses that name no host (0.0.0.0, 127.0.0.1, ::, ::1, multicast,
// 255.255.255.255) are reported at medium and high, never at low. "::"
// and "::1" are also C++ scopes and Python slices, so they need a prefix
// length (::/0), brackets and a port ([::1]:8080) or an IP context word
// (src=::, "ip ::1"). Netmasks (255.255.255.0) and the all-zero and
// broadcast MAC addresses are not reported at any level.
//
// Matches do not overlap: of two candidates the one containing the other
// wins (a URL over the e-mail address in its query), otherwise the higher
// score. The exception is an IP address that is the host of a reported
// URL: it is reported too, right after the URL, because the URL mask
// keeps the host (Presidio reports both as well). Masker replaces the
// pair once and counts both: with the URL's mask strategy the host is
// replaced by the IP's strategy inside the masked URL
// (http://172.***.***.***/***); any other URL strategy replaces it all.
//
// Text shaped like an IBAN that fails its checks (RS35 2600 0560 1001
// 6113 70) is consumed without a match, so its groups are not reported as
// a card or phone number; a grouped card number followed by another short
// group (4111 1111 1111 1111 22) is one longer number, not a card.
//
// Deliberate differences from Presidio, whose recognizer tests are a
// reference: a bare domain (microsoft.com, google.co.il) is not a URL,
// because agent traffic is full of package paths and host names; a URL
// whose host has no dot and is not an IP address (http://localhost,
// http://intranet) is not one either, unless it carries credentials;
// five dotted numbers (192.168.1.1.1) are a version or an OID, not an
// address; SSNs written 078051121, 078 05 1123 or 078.05.1123 need an
// SSN context word at medium (the spaced and dotted forms are found at
// high without one), and 078-051121 or 07805-1121 are not SSNs.
//
// Phone numbers are checked against the E.164 country codes with the
// national number lengths of each large numbering plan, and NANP numbers
// against the area-code and exchange rules, instead of libphonenumber's
// metadata: that keeps validation allocation-free and the package small,
// at the price of accepting a well-formed number in a range a country has
// not assigned.
//
// # Masking
//
// A Masker replaces matches by a Strategy per type: StrategyMask
// (partial, the default for personal data: jo**@example.com,
// (5**) ***-**67, ************1111, ***-**-6789), StrategyRedact
// (<EMAIL>, the default for secrets), StrategyHash (<EMAIL:3f9a1c2b5d7e9f01>,
// a keyed pseudonym) or StrategyEncrypt (<EMAIL:enc:v2:…>, AES-256-GCM,
// undone only by Reveal with the key). Keys come from the master secret
// through KeysFromSecret (HKDF-SHA256, one info string per purpose).
//
// A pseudonym is the first 8 bytes (16 hex digits; 4 bytes would collide
// after some 65,000 values) of HMAC-SHA256 over the type and the value's
// canonical form, so that one value written in different formats gets one
// pseudonym: phone numbers as E.164 when the country is known
// ("+14155552671" for (415) 555-2671 and +1 415 555 2671), card numbers,
// SSNs and IBANs without separators (IBANs upper case), e-mail addresses
// lower case, IP addresses in net/netip's form, MAC addresses as
// aa:bb:cc:dd:ee:ff, Ethereum and bech32 addresses lower case. Both the
// token and the canonical forms are fixed: pseudonyms written by an
// earlier version (8 hex digits over the value as written) do not join
// with these.
//
// An encrypted token binds the tenant and the type as additional data:
// MaskEnvelope binds the envelope's tenant (the pii-worker's path),
// MaskData and MaskString bind none, and Reveal(token, tenant, keys)
// opens a token only for the tenant it was bound to, so one tenant's
// token cannot be revealed as another's. v1 tokens, which bound only the
// type, are refused.
//
// MaskData walks an event's data without recursion, scans every string
// with its key as context, opens JSON held in strings, honours
// Config.Exclude and returns the masked bytes and the counts per type;
// MaskEnvelope does that to an envelope and records escaipii. ScanJSONL
// and MaskJSONL are the bodies of `escai pii scan` and `escai pii mask`.
//
// # Accuracy
//
// testdata/corpus.jsonl is a labelled corpus of agent text (tool calls,
// prompts, logs, stack traces, SQL, shell, several languages) written by
// TestGenerateCorpus -update. TestAccuracy measures precision and recall
// per type on it at high sensitivity, counting a match as correct only
// when type, start and end are all exact, and fails below F1 0.95 for
// any type or 0.97 overall. Because the generator and the detector share
// an author, testdata/handwritten.txt and testdata/heldout.txt add
// hand-labelled samples written as an agent would see them
// (TestAccuracyHandwritten).
package pii
