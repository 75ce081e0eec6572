//! Property tests: token verification never panics, whatever it is given, and a mutated
//! token never verifies as anything but the original.

mod common;

use std::sync::OnceLock;

use common::Fixture;
use proptest::prelude::*;

struct World {
    runtime: tokio::runtime::Runtime,
    fixture: Fixture,
    token: String,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (fixture, token) = runtime.block_on(async {
            let f = Fixture::new().await;
            let token = f.issue().await.into_string();
            (f, token)
        });
        World {
            runtime,
            fixture,
            token,
        }
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, bit: u8 },
    Replace { at: usize, with: char },
    Insert { at: usize, with: char },
    Remove { at: usize },
    Truncate { at: usize },
    Swap { a: usize, b: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        (any::<usize>(), any::<char>()).prop_map(|(at, with)| Mutation::Replace { at, with }),
        (
            any::<usize>(),
            prop::sample::select(vec!['.', '=', '+', '/', 'A', '-', '_', '\0'])
        )
            .prop_map(|(at, with)| Mutation::Insert { at, with }),
        any::<usize>().prop_map(|at| Mutation::Remove { at }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Swap { a, b }),
    ]
}

fn apply(token: &str, mutations: &[Mutation]) -> String {
    let mut bytes = token.as_bytes().to_vec();
    for m in mutations {
        if bytes.is_empty() {
            break;
        }
        let n = bytes.len();
        match *m {
            Mutation::Flip { at, bit } => bytes[at % n] ^= 1 << bit,
            Mutation::Replace { at, with } => {
                let mut buf = [0u8; 4];
                let enc = with.encode_utf8(&mut buf).as_bytes().to_vec();
                bytes.splice(at % n..at % n + 1, enc).for_each(drop);
            }
            Mutation::Insert { at, with } => bytes.insert(at % (n + 1), with as u8),
            Mutation::Remove { at } => {
                bytes.remove(at % n);
            }
            Mutation::Truncate { at } => bytes.truncate(at % n),
            Mutation::Swap { a, b } => bytes.swap(a % n, b % n),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic_or_verify(input in ".{0,600}") {
        let w = world();
        let result = w.runtime.block_on(w.fixture.verifier.verify(&input));
        prop_assert!(result.is_err());
    }

    #[test]
    fn arbitrary_three_part_strings_never_panic_or_verify(
        a in "[A-Za-z0-9_=+/-]{0,200}", b in "[A-Za-z0-9_=+/-]{0,400}", c in "[A-Za-z0-9_=+/-]{0,120}"
    ) {
        let w = world();
        let token = format!("{a}.{b}.{c}");
        let result = w.runtime.block_on(w.fixture.verifier.verify(&token));
        prop_assert!(result.is_err());
    }

    #[test]
    fn mutated_tokens_never_panic_nor_verify_as_something_else(mutations in prop::collection::vec(mutation(), 1..4)) {
        let w = world();
        let mutated = apply(&w.token, &mutations);
        let result = w.runtime.block_on(w.fixture.verifier.verify(&mutated));
        if mutated != w.token {
            prop_assert!(result.is_err(), "a mutated token verified: {mutated}");
        }
        let original = w.runtime.block_on(w.fixture.verifier.verify(&w.token));
        prop_assert!(original.is_ok());
    }
}
